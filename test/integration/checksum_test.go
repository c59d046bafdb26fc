package integration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestChecksums(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "sums")
	body := randomBytes(31, 200_000)

	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		t.Run("put and get "+string(alg), func(t *testing.T) {
			key := "obj-" + string(alg)
			put := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), Body: bytesReader(body), ChecksumAlgorithm: alg}))
			sent := map[types.ChecksumAlgorithm]*string{"CRC32": put.ChecksumCRC32, "CRC32C": put.ChecksumCRC32C, "CRC64NVME": put.ChecksumCRC64NVME, "SHA1": put.ChecksumSHA1, "SHA256": put.ChecksumSHA256}[alg]
			if sent == nil {
				t.Fatalf("PUT response has no %s checksum", alg)
			}
			g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}))
			if readAll(t, g.Body) != string(body) {
				t.Fatal("body differs")
			}
			got := map[types.ChecksumAlgorithm]*string{"CRC32": g.ChecksumCRC32, "CRC32C": g.ChecksumCRC32C, "CRC64NVME": g.ChecksumCRC64NVME, "SHA1": g.ChecksumSHA1, "SHA256": g.ChecksumSHA256}[alg]
			if aws.ToString(got) != aws.ToString(sent) || g.ChecksumType != types.ChecksumTypeFullObject {
				t.Fatalf("GET checksum %s (%s), PUT said %s", aws.ToString(got), g.ChecksumType, aws.ToString(sent))
			}
			h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key)}))
			if h.ChecksumCRC32 != nil || h.ChecksumSHA256 != nil {
				t.Fatal("checksum returned without x-amz-checksum-mode")
			}
		})
	}
	t.Run("known CRC32 value", func(t *testing.T) {
		sum := crc32.ChecksumIEEE(body)
		want := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
		put := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("crc"), Body: bytesReader(body)}))
		if aws.ToString(put.ChecksumCRC32) != want {
			t.Fatalf("CRC32 %s, want %s", aws.ToString(put.ChecksumCRC32), want)
		}
	})
	t.Run("wrong checksum is BadDigest and stores nothing", func(t *testing.T) {
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad"), Body: bytesReader(body), ChecksumCRC32: aws.String("AAAAAA==")})
		wantAPIError(t, err, "BadDigest", 400)
		_, err = e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad"), Body: bytesReader(body), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32)))})
		wantAPIError(t, err, "BadDigest", 400)
		_, err = e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad")})
		wantAPIError(t, err, "NotFound", 404)
	})
	t.Run("content md5", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("md5"), Body: stringsReader("hello"), ContentMD5: aws.String(md5b64("hello"))}))
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("md5"), Body: stringsReader("hello"), ContentMD5: aws.String(md5b64("other"))})
		wantAPIError(t, err, "BadDigest", 400)
		_, err = e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("md5"), Body: stringsReader("hello"), ContentMD5: aws.String("not-base64!")})
		wantAPIError(t, err, "InvalidDigest", 400)
	})
	t.Run("plain http signs the payload", func(t *testing.T) {
		hc := e.client(testAccessKey, testSecretKey, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.srv.HTTPURL) })
		put := must[*s3.PutObjectOutput](t)(hc.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("overhttp"), Body: bytesReader(body)}))
		if put.ChecksumCRC32 == nil {
			t.Fatal("no checksum over http")
		}
		g := must[*s3.GetObjectOutput](t)(hc.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String("overhttp")}))
		if readAll(t, g.Body) != string(body) {
			t.Fatal("body differs over http")
		}
	})
	t.Run("when required: no checksum at all", func(t *testing.T) {
		wr := e.client(testAccessKey, testSecretKey, func(o *s3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		})
		put := must[*s3.PutObjectOutput](t)(wr.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("nosum"), Body: bytesReader(body)}))
		if put.ChecksumCRC32 != nil {
			t.Fatal("server invented a checksum the client did not ask for")
		}
	})
	t.Run("signed streaming payload", func(t *testing.T) {
		data := randomBytes(32, 150_000)
		resp := e.putStreaming(t, "/sums/streamed", data, 64<<10, -1)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, mustRead(t, resp))
		}
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String("streamed")}))
		if readAll(t, g.Body) != string(data) {
			t.Fatal("streamed body differs")
		}
		for _, bad := range []int{0, 1, 2} { // corrupt chunk 0, 1 or the final empty chunk's signature
			resp := e.putStreaming(t, "/sums/streamed-bad", data, 64<<10, bad)
			wantRawError(t, resp, "SignatureDoesNotMatch", 403)
		}
		_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("streamed-bad")})
		wantAPIError(t, err, "NotFound", 404)
	})
}

// putStreaming PUTs data with STREAMING-AWS4-HMAC-SHA256-PAYLOAD in chunks of chunkSize,
// corrupting the signature of chunk number corrupt (-1 for none). The chunk signing is written
// here from the AWS documentation, independently of the server's code.
func (e *env) putStreaming(t *testing.T, path string, data []byte, chunkSize, corrupt int) *http.Response {
	t.Helper()
	now := time.Now().UTC()
	amzDate, day := now.Format("20060102T150405Z"), now.Format("20060102")
	scope := day + "/" + e.region + "/s3/aws4_request"
	var chunks [][]byte
	for off := 0; off < len(data); off += chunkSize {
		chunks = append(chunks, data[off:min(off+chunkSize, len(data))])
	}
	chunks = append(chunks, nil)
	encLen := 0
	for _, ch := range chunks {
		encLen += len(fmt.Sprintf("%x", len(ch))) + len(";chunk-signature=") + 64 + 2 + len(ch) + 2
	}
	host := strings.TrimPrefix(e.srv.URL, "https://")
	signed := "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length"
	canon := strings.Join([]string{"PUT", path, "",
		"content-encoding:aws-chunked", fmt.Sprintf("content-length:%d", encLen), "host:" + host,
		"x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "x-amz-date:" + amzDate,
		fmt.Sprintf("x-amz-decoded-content-length:%d", len(data)), "", signed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, "\n")
	key := hmacSHA256([]byte("AWS4"+testSecretKey), day)
	for _, s := range []string{e.region, "s3", "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canon))
	seed := hex.EncodeToString(hmacSHA256(key, sts))
	var body strings.Builder
	prev := seed
	for i, ch := range chunks {
		cs := "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + hexSHA256(nil) + "\n" + hexSHA256(ch)
		sig := hex.EncodeToString(hmacSHA256(key, cs))
		prev = sig
		if i == corrupt {
			sig = strings.Repeat("0", 64)
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n%s\r\n", len(ch), sig, ch)
	}
	req, _ := http.NewRequest("PUT", e.srv.URL+path, strings.NewReader(body.String()))
	req.ContentLength = int64(encLen)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/"+scope+", SignedHeaders="+signed+", Signature="+seed)
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
