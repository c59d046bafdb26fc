package s3api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
)

// maxFormBytes caps the fields of a browser upload form before its file (names and values),
// as S3 caps "the form data and boundaries (excluding the contents of the file)" at 20 KB.
const maxFormBytes = 20 << 10

// maxFormWire caps the raw bytes read before the file part: the fields plus their part
// headers, boundaries and what the multipart reader buffers ahead.
const maxFormWire = 2 * maxFormBytes

var (
	errMalformedPOST = &apiError{"MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data."}
	errFormTooLarge  = &apiError{"MaxPostPreDataLengthExceededError", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large."}
	errNoFile        = &apiError{"InvalidArgument", http.StatusBadRequest, "POST requires exactly one file upload per request."}
)

// postForm is a browser upload form read up to its file.
type postForm struct {
	fields   map[string]string // lower-case field name → value, every field before the file
	file     *multipart.Part   // the file field, still to be streamed; nil if the form has none
	filename string            // the file's name as the client sent it, for ${filename}
}

// readForm reads a multipart/form-data body up to its "file" field, which S3 requires to be
// the last: fields after it are never read. Field names are case-insensitive, so a name given
// twice in any case is refused. Memory is bounded by maxFormWire whatever the body.
func readForm(body io.Reader, boundary string) (*postForm, error) {
	wire := &formBudget{r: body, left: maxFormWire, armed: true}
	mr := multipart.NewReader(wire, boundary)
	f := &postForm{fields: map[string]string{}}
	total := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, formReadError(err)
		}
		name := strings.ToLower(p.FormName())
		if name == "" {
			return nil, errMalformedPOST
		}
		if name == "file" {
			wire.armed = false
			f.file, f.filename = p, rawFilename(p)
			return f, nil
		}
		if _, dup := f.fields[name]; dup {
			return nil, &apiError{"InvalidArgument", http.StatusBadRequest, "The form field " + name + " is given more than once."}
		}
		v, err := io.ReadAll(io.LimitReader(p, int64(maxFormBytes-total+1)))
		if err != nil {
			return nil, formReadError(err)
		}
		if total += len(name) + len(v); total > maxFormBytes {
			return nil, errFormTooLarge
		}
		f.fields[name] = string(v)
	}
}

// rawFilename is the filename parameter of a part as sent: multipart's FileName strips
// directories, while S3 puts the name into ${filename} as the client gave it.
func rawFilename(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// errFormBudget is formBudget's refusal, turned into errFormTooLarge.
var errFormBudget = errors.New("s3api: form fields too large")

func formReadError(err error) error {
	if errors.Is(err, errFormBudget) {
		return errFormTooLarge
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return err // the client stalled: the connection is cut, no answer to render
	}
	return errMalformedPOST
}

// formBudget refuses more than left bytes while armed, bounding what the multipart reader
// reads (part headers included) before the file.
type formBudget struct {
	r     io.Reader
	left  int
	armed bool
}

func (b *formBudget) Read(p []byte) (int, error) {
	if !b.armed {
		return b.r.Read(p)
	}
	if b.left <= 0 {
		return 0, errFormBudget
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}
