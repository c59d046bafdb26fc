package iamapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/coffer/coffer/internal/iam"
)

// paginate cuts one page of n items by IAM's Marker and MaxItems (1..1000, default 100). The
// marker is the index of the page's first item: lists are sorted, and a changed list between
// pages shifts items as it does in IAM.
func paginate(c *call, n int) (from, to int, p page, err error) {
	max := 100
	if v := c.get("MaxItems"); v != "" {
		if max, err = strconv.Atoi(v); err != nil || max < 1 || max > 1000 {
			return 0, 0, p, validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000 and greater than or equal to 1", v))
		}
	}
	if m := c.get("Marker"); m != "" {
		if from, err = strconv.Atoi(m); err != nil || from < 0 || from > n {
			return 0, 0, p, &apiError{"ValidationError", http.StatusBadRequest, "Invalid Marker."}
		}
	}
	to = min(n, from+max)
	if to < n {
		p = page{IsTruncated: true, Marker: strconv.Itoa(to)}
	}
	return from, to, p, nil
}

// pageOf cuts one page of items and renders it.
func pageOf[T, X any](c *call, items []T, render func(T) X) ([]X, page, error) {
	from, to, p, err := paginate(c, len(items))
	if err != nil {
		return nil, p, err
	}
	out := make([]X, 0, to-from)
	for _, it := range items[from:to] {
		out = append(out, render(it))
	}
	return out, p, nil
}

func validation(msg string) error { return &iam.Error{Class: iam.ErrValidation, Message: msg} }

// required returns a form parameter that must be given (AWS names it in camel case).
func required(c *call, name string) (string, error) {
	v := c.get(name)
	if v == "" {
		return "", validation("1 validation error detected: Value null at '" + lowerFirst(name) + "' failed to satisfy constraint: Member must not be null")
	}
	return v, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}
