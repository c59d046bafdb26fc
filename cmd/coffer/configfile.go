package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// maxConfigSize bounds the config file read: it holds a few dozen settings.
const maxConfigSize = 1 << 20

// settingKind is how a setting is written in the config file.
type settingKind int

const (
	kindString   settingKind = iota
	kindBool                 // true or false
	kindInt                  // a TOML integer
	kindFloat                // a TOML number
	kindDuration             // a string such as "5m", as the flag takes it: TOML has no durations
	kindList                 // a repeatable flag: an array of strings, one a flag given
)

// kindOf tells a flag's kind from its value, so that a flag needs no entry anywhere to be a
// setting of the file.
func kindOf(f *flag.Flag) settingKind {
	if _, ok := f.Value.(*listFlag); ok {
		return kindList
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return kindBool
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case int, int64, uint, uint64:
			return kindInt
		case float64:
			return kindFloat
		case time.Duration:
			return kindDuration
		}
	}
	return kindString
}

func (k settingKind) goType() reflect.Type {
	switch k {
	case kindBool:
		return reflect.TypeFor[bool]()
	case kindInt:
		return reflect.TypeFor[int64]()
	case kindFloat:
		return reflect.TypeFor[float64]()
	case kindList:
		return reflect.TypeFor[[]string]()
	}
	return reflect.TypeFor[string]()
}

// want says what a setting of kind k takes, for an error.
func (k settingKind) want() string {
	switch k {
	case kindBool:
		return "true or false"
	case kindInt:
		return "an integer"
	case kindFloat:
		return "a number"
	case kindDuration:
		return `a duration string such as "5m"`
	case kindList:
		return `an array of strings, such as ["a", "b"]`
	}
	return "a string"
}

// configShape is a struct type with one field a setting, built from the flag set, so that the
// TOML decoder itself refuses unknown keys and wrong types, and says on which line.
type configShape struct {
	typ   reflect.Type
	flags []*flag.Flag // the flag of field i
}

// shapeOf builds the shape of fs's settings; with optional, each field is a pointer, nil when
// the file does not name the setting.
func shapeOf(fs *flag.FlagSet, optional bool) configShape {
	var s configShape
	var fields []reflect.StructField
	fs.VisitAll(func(f *flag.Flag) {
		if !isSetting(f.Name) {
			return
		}
		t := kindOf(f).goType()
		if optional {
			t = reflect.PointerTo(t)
		}
		fields = append(fields, reflect.StructField{
			Name: "F" + strconv.Itoa(len(fields)),
			Type: t,
			Tag:  reflect.StructTag(fmt.Sprintf("toml:%q comment:%q", f.Name, f.Usage)),
		})
		s.flags = append(s.flags, f)
	})
	s.typ = reflect.StructOf(fields)
	return s
}

func (s configShape) lookup(name string) (*flag.Flag, bool) {
	for _, f := range s.flags {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
}

// readConfigFile reads the TOML file at path and returns the values of each setting it names,
// as strings the flag parses. It refuses a file anyone may write, and a secret written in it.
func readConfigFile(fs *flag.FlagSet, path string) (map[string][]string, error) {
	data, err := readConfigBytes(path)
	if err != nil {
		return nil, err
	}
	shape := shapeOf(fs, true)
	v := reflect.New(shape.typ)
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, decodeError(path, shape, err)
	}
	values := map[string][]string{}
	for i, f := range shape.flags {
		field := v.Elem().Field(i)
		if field.IsNil() {
			continue
		}
		vs := fileValues(field.Elem())
		for _, s := range vs {
			if holdsSecret(s) {
				return nil, fmt.Errorf("config file %s: %s holds a password: a config file holds no secrets; give it in the environment (%s) or in a password file the backend reads", path, f.Name, envName(f.Name))
			}
		}
		values[f.Name] = vs
	}
	return values, nil
}

func readConfigBytes(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o002 != 0 {
		return nil, fmt.Errorf("config file %s is writable by anyone (mode %04o): chmod o-w it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(file, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config file %s is larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}

// decodeError rewords the decoder's error: key and line, and what the key takes. It never
// quotes the document, whose lines may hold values.
func decodeError(path string, shape configShape, err error) error {
	var missing *toml.StrictMissingError
	if errors.As(err, &missing) {
		var errs []error
		for _, e := range missing.Errors {
			line, _ := e.Position()
			key := strings.Join(e.Key(), ".")
			errs = append(errs, fmt.Errorf("config file %s: line %d: unknown key %q%s", path, line, key, unknownKeyHint(shape, key)))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		if k := de.Key(); len(k) == 1 {
			if f, ok := shape.lookup(k[0]); ok {
				return fmt.Errorf("config file %s: line %d: %s takes %s", path, line, f.Name, kindOf(f).want())
			}
		}
		return fmt.Errorf("config file %s: line %d: %s", path, line, strings.TrimPrefix(de.Error(), "toml: "))
	}
	return fmt.Errorf("config file %s: %w", path, err)
}

// unknownKeyHint points from a near miss to the setting meant.
func unknownKeyHint(shape configShape, key string) string {
	if _, ok := shape.lookup(key + "-file"); ok {
		return fmt.Sprintf(" (secrets are never written in the config file: set %s-file to a file holding it)", key)
	}
	if dashed := strings.ReplaceAll(key, "_", "-"); dashed != key {
		if _, ok := shape.lookup(dashed); ok {
			return fmt.Sprintf(" (did you mean %s?)", dashed)
		}
	}
	return ""
}

// fileValues turns a decoded value into the strings its flag parses.
func fileValues(v reflect.Value) []string {
	switch v.Kind() {
	case reflect.Bool:
		return []string{strconv.FormatBool(v.Bool())}
	case reflect.Int64:
		return []string{strconv.FormatInt(v.Int(), 10)}
	case reflect.Float64:
		return []string{strconv.FormatFloat(v.Float(), 'g', -1, 64)}
	case reflect.Slice:
		return append([]string{}, v.Interface().([]string)...)
	}
	return []string{v.String()}
}

// printConfig writes the settings in effect as a config file that reads back to the same
// settings. A password inside a value (a URL's, or a password= field) is shown as REDACTED.
func printConfig(w io.Writer, fs *flag.FlagSet) error {
	shape := shapeOf(fs, false)
	v := reflect.New(shape.typ).Elem()
	for i, f := range shape.flags {
		field := v.Field(i)
		switch kindOf(f) {
		case kindList:
			field.Set(reflect.ValueOf(redactAll(*f.Value.(*listFlag))))
		case kindBool:
			b, err := strconv.ParseBool(f.Value.String())
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			field.SetBool(b)
		case kindInt:
			n, err := strconv.ParseInt(f.Value.String(), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			field.SetInt(n)
		case kindFloat:
			x, err := strconv.ParseFloat(f.Value.String(), 64)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			field.SetFloat(x)
		default:
			field.SetString(redactSecret(f.Value.String()))
		}
	}
	fmt.Fprintf(w, "# coffer server settings in effect: defaults < config file < environment < flags.\n# Secrets appear only as the paths of their files.\n\n")
	return toml.NewEncoder(w).Encode(v.Interface())
}

func redactAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = redactSecret(v)
	}
	return out
}
