package storetest

import (
	"bytes"
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

// UserData is an in-memory userdata.Store.
type UserData struct {
	mu sync.Mutex
	r  map[string]userdata.Request // fiscal code + choice
	// Err, when set, is returned by every call.
	Err error
}

func udKey(fc, choice string) string { return fc + "/" + choice }

// Request implements userdata.Store.
func (s *UserData) Request(_ context.Context, fc, choice string) (userdata.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return userdata.Request{}, s.Err
	}
	r, ok := s.r[udKey(fc, choice)]
	if !ok {
		return r, problem.ErrNotFound
	}
	return r, nil
}

// Open implements userdata.Store.
func (s *UserData) Open(_ context.Context, r userdata.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.r == nil {
		s.r = map[string]userdata.Request{}
	}
	if cur, ok := s.r[udKey(r.FiscalCode, r.Choice)]; ok && cur.Open() {
		return problem.ErrConflict
	}
	s.r[udKey(r.FiscalCode, r.Choice)] = r
	return nil
}

// Due implements userdata.Store.
func (s *UserData) Due(_ context.Context, choice string, now time.Time, n int) ([]userdata.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	var out []userdata.Request
	for _, r := range s.r {
		if r.Choice == choice && r.Open() && !r.DueAt.After(now) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(userdata.IndexKey(out[i]), userdata.IndexKey(out[j])) < 0 })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// Update implements userdata.Store.
func (s *UserData) Update(_ context.Context, r userdata.Request, from ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	cur, ok := s.r[udKey(r.FiscalCode, r.Choice)]
	if !ok || cur.ID != r.ID {
		return problem.ErrConflict
	}
	matched := len(from) == 0
	for _, f := range from {
		matched = matched || cur.Status == f
	}
	if !matched {
		return problem.ErrConflict
	}
	s.r[udKey(r.FiscalCode, r.Choice)] = r
	return nil
}

// Files is an in-memory userdata.Files.
type Files struct {
	mu       sync.Mutex
	Files    map[string][]byte
	versions map[string]int
	// Err, when set, is returned by Put.
	Err error
}

// Put implements userdata.Files.
func (f *Files) Put(_ context.Context, key string, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	if f.Files == nil {
		f.Files, f.versions = map[string][]byte{}, map[string]int{}
	}
	f.Files[key] = body
	f.versions[key]++
	return nil
}

// UploadLink implements messages.Documents: the headers it names are those
// S3's links sign.
func (f *Files) UploadLink(_ context.Context, key string, a messages.Attachment, ttl time.Duration) (string, map[string]string, error) {
	return "https://files.example/" + key + "?put&ttl=" + ttl.String(),
		map[string]string{"Content-Length": strconv.FormatInt(a.Size, 10), "x-amz-checksum-sha256": a.ChecksumSHA256()}, nil
}

// DownloadLink implements messages.Documents.
func (f *Files) DownloadLink(_ context.Context, key, version, name string, ttl time.Duration) (string, error) {
	return "https://files.example/" + key + "?versionId=" + version + "&name=" + name + "&ttl=" + ttl.String(), nil
}

// Check implements messages.Documents: the version is the count of puts
// of the key ("1" for the first).
func (f *Files) Check(_ context.Context, key string, a messages.Attachment) (string, error) {
	f.mu.Lock()
	b, ok := f.Files[key]
	v := f.versions[key]
	f.mu.Unlock()
	if !ok {
		return "", messages.ErrNotUploaded
	}
	return strconv.Itoa(v), messages.VerifyDocument(bytes.NewReader(b), a)
}

// Hand implements remotecontent.Transit: the document is kept at key.
func (f *Files) Hand(ctx context.Context, key, name string, body []byte, ttl time.Duration) (string, error) {
	if err := f.Put(ctx, key, body); err != nil {
		return "", err
	}
	return "https://files.example/" + key + "?name=" + name + "&ttl=" + ttl.String(), nil
}

// Link implements userdata.Files.
func (f *Files) Link(_ context.Context, key string, ttl time.Duration) (string, error) {
	return "https://files.example/" + key + "?ttl=" + ttl.String(), nil
}

// DeletePrefix implements userdata.Files.
func (f *Files) DeletePrefix(_ context.Context, prefix string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.Files {
		if strings.HasPrefix(k, prefix) {
			delete(f.Files, k)
		}
	}
	return nil
}
