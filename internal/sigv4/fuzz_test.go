package sigv4

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var genCorpus = flag.Bool("gen-corpus", false, "rewrite the checked-in fuzz seed corpora under testdata/fuzz")

var authHeaderSeeds = []string{
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	"AWS4-HMAC-SHA256 Credential=A/20130524/r/s/aws4_request, SignedHeaders=host;host, Signature=00",
	"AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
	"AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=;, Signature=",
}

var presignQuerySeeds = []string{
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604801&X-Amz-Expires=1",
	"a=%zz&b=+&c&&=d&X-Amz-Algorithm=AWS4-HMAC-SHA256",
	"acl&versionId=3%2F4&prefix=a+b%20c&%E1%88%B4=%F0%9F%99%82",
}

// fuzzChunkParams are the fixed signing parameters of the chunk-decoder fuzz
// target; seeds are valid encodings under them.
var fuzzChunkParams = struct {
	secret, date, amzDate, scope string
	seed                         [32]byte
}{"fuzz-secret", "20260304", "20260304T050607Z", "20260304/" + sdkRegion + "/s3/aws4_request", [32]byte{0x11, 0x22}}

// fuzzModes are the chunk-decoder configurations selected by the mode byte.
var fuzzModes = []chunkConfig{
	{signed: true},
	{signed: true, trailer: true, allowed: []string{"x-amz-checksum-crc32"}},
	{trailer: true, allowed: []string{"x-amz-checksum-crc32"}},
}

type chunkSeed struct {
	mode     uint8
	body     []byte
	declared int64
}

func chunkSeeds(t testing.TB) []chunkSeed {
	p := fuzzChunkParams
	key := refSigningKey(p.secret, p.date, sdkRegion, "s3")
	enc := func(mode uint8, payload string, sizes ...int) chunkSeed {
		cfg := fuzzModes[mode]
		ss := v4.NewStreamSigner(aws.Credentials{AccessKeyID: "AK", SecretAccessKey: p.secret}, "s3", sdkRegion, p.seed[:])
		var out bytes.Buffer
		prev := hex.EncodeToString(p.seed[:])
		rest := payload
		for _, n := range append(sizes, 0) {
			data := rest[:n]
			rest = rest[n:]
			fmt.Fprintf(&out, "%x", n)
			if cfg.signed {
				sig, err := ss.GetSignature(context.Background(), nil, []byte(data), mustTime(t, p.amzDate))
				if err != nil {
					t.Fatal(err)
				}
				prev = hex.EncodeToString(sig)
				out.WriteString(";chunk-signature=" + prev)
			}
			out.WriteString("\r\n" + data)
			if n > 0 {
				out.WriteString("\r\n")
			}
		}
		if cfg.trailer {
			out.WriteString("x-amz-checksum-crc32:Xg5djw==\r\n")
			if cfg.signed {
				out.WriteString("x-amz-trailer-signature:" + refTrailerSignature(key, p.amzDate, p.scope, prev, []string{"x-amz-checksum-crc32:Xg5djw=="}) + "\r\n")
			}
		}
		out.WriteString("\r\n")
		return chunkSeed{mode, out.Bytes(), int64(len(payload))}
	}
	return []chunkSeed{
		enc(0, "hello, world", 5, 7),
		enc(0, ""),
		enc(1, "abcdefghij", 10),
		enc(2, "abcdefghij", 3, 3, 4),
		enc(2, ""),
		{2, []byte("ffffffffffffffff\r\n"), -1},
		{0, []byte("1;chunk-signature=zz\r\na\r\n"), 1},
	}
}

func newFuzzChunkReader(mode uint8, body []byte, declared int64) (*chunkReader, http.Header) {
	p := fuzzChunkParams
	cfg := fuzzModes[int(mode)%len(fuzzModes)]
	cfg.amzDate, cfg.scope, cfg.seed, cfg.declared = p.amzDate, p.scope, p.seed, max(declared, -1)
	var sg *signer
	if cfg.signed {
		sg = newSigner(deriveKey([]byte(p.secret), p.date, sdkRegion, "s3"))
	}
	trailer := http.Header{}
	return newChunkReader(io.NopCloser(bytes.NewReader(body)), sg, cfg, trailer), trailer
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range authHeaderSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, err := parseAuthorization(h)
		if err != nil {
			return
		}
		c := p.cred
		if c.accessKey == "" || c.region == "" || c.service == "" || len(c.date) != 8 {
			t.Fatalf("accepted incomplete credential %+v", c)
		}
		again := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%x",
			c.accessKey, c.scope(), strings.Join(p.signedHeaders, ";"), p.signature)
		q, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("re-marshalled header %q rejected: %v", again, err)
		}
		if q.cred != p.cred || q.signature != p.signature || strings.Join(q.signedHeaders, ";") != strings.Join(p.signedHeaders, ";") {
			t.Fatalf("round trip changed the parameters")
		}
	})
}

func FuzzParsePresignQuery(f *testing.F) {
	for _, s := range presignQuerySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params, ok := parseQuery(raw)
		if !ok {
			return
		}
		// The canonical query is a fixed point: parsing and canonicalising
		// it again gives the same string.
		canon := string(appendCanonicalQuery(nil, params, "X-Amz-Signature"))
		again, ok := parseQuery(canon)
		if !ok {
			t.Fatalf("canonical query %q does not parse", canon)
		}
		if c2 := string(appendCanonicalQuery(nil, again, "")); c2 != canon {
			t.Fatalf("canonical query not stable: %q then %q", canon, c2)
		}
		p, err := parsePresignQuery(params)
		if err != nil {
			return
		}
		if p.expires <= 0 || p.expires.Seconds() > MaxPresignExpiry || p.date.IsZero() {
			t.Fatalf("accepted out-of-range parameters %+v", p)
		}
	})
}

func FuzzChunkDecoder(f *testing.F) {
	for _, s := range chunkSeeds(f) {
		f.Add(s.mode, s.body, s.declared)
	}
	f.Fuzz(func(t *testing.T, mode uint8, body []byte, declared int64) {
		cr, trailer := newFuzzChunkReader(mode, body, declared)
		// Small reads exercise every state boundary.
		var out []byte
		buf := make([]byte, 7)
		var err error
		for {
			var n int
			n, err = cr.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		if err != io.EOF {
			if _, again := cr.Read(buf); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
			return
		}
		if len(out) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(body))
		}
		if declared >= 0 && int64(len(out)) != declared {
			t.Fatalf("decoded %d bytes, declared %d", len(out), declared)
		}
		cfg := fuzzModes[int(mode)%len(fuzzModes)]
		if cfg.trailer && len(trailer) != len(cfg.allowed) {
			t.Fatalf("EOF without the declared trailers: %v", trailer)
		}
	})
}

// TestFuzzCorpora fails when a fuzz target has no checked-in seeds, and with
// -gen-corpus rewrites them from the seed lists above.
func TestFuzzCorpora(t *testing.T) {
	files := map[string][]string{}
	for i, s := range authHeaderSeeds {
		files["FuzzParseAuthorization/seed"+strconv.Itoa(i)] = []string{"string(" + strconv.Quote(s) + ")"}
	}
	for i, s := range presignQuerySeeds {
		files["FuzzParsePresignQuery/seed"+strconv.Itoa(i)] = []string{"string(" + strconv.Quote(s) + ")"}
	}
	for i, s := range chunkSeeds(t) {
		files["FuzzChunkDecoder/seed"+strconv.Itoa(i)] = []string{
			"byte(" + strconv.QuoteRune(rune(s.mode)) + ")",
			"[]byte(" + strconv.Quote(string(s.body)) + ")",
			"int64(" + strconv.FormatInt(s.declared, 10) + ")",
		}
	}
	if *genCorpus {
		for name, lines := range files {
			path := filepath.Join("testdata", "fuzz", name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			data := "go test fuzz v1\n" + strings.Join(lines, "\n") + "\n"
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, target := range []string{"FuzzParseAuthorization", "FuzzParsePresignQuery", "FuzzChunkDecoder"} {
		entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", target))
		if err != nil || len(entries) < 3 {
			t.Errorf("%s: checked-in seed corpus missing or too small (%d files, %v)", target, len(entries), err)
		}
	}
}

// TestChunkSeedsDecode checks that the valid seeds of FuzzChunkDecoder do
// decode, so the fuzzer starts from inputs that reach every state.
func TestChunkSeedsDecode(t *testing.T) {
	for i, s := range chunkSeeds(t)[:5] {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			cr, trailer := newFuzzChunkReader(s.mode, s.body, s.declared)
			out, err := io.ReadAll(cr)
			if err != nil || int64(len(out)) != s.declared {
				t.Fatalf("decoded %q, %v", out, err)
			}
			if fuzzModes[s.mode].trailer && trailer.Get("X-Amz-Checksum-Crc32") != "Xg5djw==" {
				t.Errorf("Trailer = %v", trailer)
			}
		})
	}
}
