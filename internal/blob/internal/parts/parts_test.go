package parts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	c := Config{PartSize: 16, MaxPartSize: 100, MaxParts: 50, GrowEvery: 10}
	want := map[int]int64{1: 16, 10: 16, 11: 32, 20: 32, 21: 64, 31: 100, 50: 100}
	for n, size := range want {
		if got := c.SizeOf(n); got != size {
			t.Errorf("SizeOf(%d) = %d, want %d", n, got, size)
		}
	}
	// 10×16 + 10×32 + 10×64 + 20×100
	if got := c.MaxObjectSize(); got != 160+320+640+2000 {
		t.Errorf("MaxObjectSize = %d", got)
	}
	var total int64
	for n := 1; n <= c.MaxParts; n++ {
		if n > 1 && c.SizeOf(n) < c.SizeOf(n-1) {
			t.Fatalf("part %d smaller than part %d", n, n-1)
		}
		total += c.SizeOf(n)
	}
	if total != c.MaxObjectSize() {
		t.Errorf("sum of part sizes %d != MaxObjectSize %d", total, c.MaxObjectSize())
	}
}

// recorder is an in-memory Uploader that records calls and can fail or
// block chosen steps.
type recorder struct {
	mu        sync.Mutex
	calls     []string
	parts     map[int][]byte
	single    []byte
	failPart  int
	failStart bool
	failDone  bool
	inFlight  int
	maxFlight int
	gate      chan struct{} // if set, UploadPart waits for a token
	bodies    []*Body
}

func (r *recorder) log(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) Start(context.Context) error {
	r.log("start")
	if r.failStart {
		return errors.New("start refused")
	}
	return nil
}

func (r *recorder) UploadPart(ctx context.Context, n int, body *Body) error {
	r.mu.Lock()
	r.inFlight++
	r.maxFlight = max(r.maxFlight, r.inFlight)
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	r.log(fmt.Sprintf("part %d", n))
	if n == r.failPart {
		return errors.New("part refused")
	}
	r.mu.Lock()
	if r.parts == nil {
		r.parts = map[int][]byte{}
	}
	r.parts[n] = data
	r.mu.Unlock()
	return nil
}

func (r *recorder) Complete(_ context.Context, n int) error {
	r.log(fmt.Sprintf("complete %d", n))
	if r.failDone {
		return errors.New("complete refused")
	}
	return nil
}

func (r *recorder) Abort(context.Context) error {
	r.log("abort")
	return nil
}

func (r *recorder) PutSingle(_ context.Context, body *Body) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	r.log(fmt.Sprintf("single %d", len(data)))
	r.single = data
	return nil
}

func (r *recorder) object(n int) []byte {
	var out []byte
	for i := 1; i <= n; i++ {
		out = append(out, r.parts[i]...)
	}
	return out
}

func (r *recorder) has(call string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.calls, call)
}

var cfg = Config{PartSize: 10, MaxPartSize: 40, MaxParts: 100, GrowEvery: 2}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestSingleAndMultipart(t *testing.T) {
	for _, c := range []struct {
		size  int
		parts int // 0: single
	}{{0, 0}, {1, 0}, {10, 0}, {11, 2}, {20, 2}, {21, 3}, {30, 3}, {61, 5}, {200, 8}} {
		r := &recorder{}
		w := NewWriter(context.Background(), r, cfg)
		in := data(c.size)
		for rest := in; len(rest) > 0; {
			k := min(3, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%d bytes: Close: %v", c.size, err)
		}
		if c.parts == 0 {
			if !bytes.Equal(r.single, in) || r.has("start") {
				t.Errorf("%d bytes: calls %v, want one single put", c.size, r.calls)
			}
			continue
		}
		if !r.has(fmt.Sprintf("complete %d", c.parts)) || r.has("abort") {
			t.Errorf("%d bytes: calls %v, want %d parts completed", c.size, r.calls, c.parts)
		}
		if got := r.object(c.parts); !bytes.Equal(got, in) {
			t.Errorf("%d bytes: parts reassemble to %d bytes", c.size, len(got))
		}
		for n := 1; n < c.parts; n++ {
			if int64(len(r.parts[n])) != cfg.SizeOf(n) {
				t.Errorf("%d bytes: part %d has %d bytes, want %d", c.size, n, len(r.parts[n]), cfg.SizeOf(n))
			}
		}
	}
}

func TestPartFailureAborts(t *testing.T) {
	r := &recorder{failPart: 2}
	w := NewWriter(context.Background(), r, cfg)
	var werr error
	for i := 0; i < 20 && werr == nil; i++ {
		_, werr = w.Write(data(10))
		time.Sleep(time.Millisecond) // let the failing upload finish
	}
	cerr := w.Close()
	if cerr == nil || !strings.Contains(cerr.Error(), "upload part 2: part refused") {
		t.Fatalf("Close = %v, want the part 2 failure", cerr)
	}
	if werr != nil && werr.Error() != cerr.Error() {
		t.Errorf("Write error %v differs from Close error %v", werr, cerr)
	}
	if !r.has("abort") || slices.ContainsFunc(r.calls, func(s string) bool { return strings.HasPrefix(s, "complete") }) {
		t.Fatalf("calls %v: want abort and no complete", r.calls)
	}
}

func TestStartFailure(t *testing.T) {
	r := &recorder{failStart: true}
	w := NewWriter(context.Background(), r, cfg)
	_, err := w.Write(data(25))
	if err == nil || !strings.Contains(err.Error(), "start upload: start refused") {
		t.Fatalf("Write = %v, want the start failure", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed start succeeded")
	}
	if r.has("abort") || r.has("part 1") {
		t.Fatalf("calls %v: nothing to abort or upload", r.calls)
	}
}

func TestCompleteFailureAborts(t *testing.T) {
	r := &recorder{failDone: true}
	w := NewWriter(context.Background(), r, cfg)
	if _, err := w.Write(data(35)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "complete refused") {
		t.Fatalf("Close = %v, want the complete failure", err)
	}
	if !r.has("abort") {
		t.Fatalf("calls %v: want abort", r.calls)
	}
}

func TestAbort(t *testing.T) {
	r := &recorder{}
	w := NewWriter(context.Background(), r, cfg)
	if _, err := w.Write(data(35)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if !r.has("abort") || r.has("complete 4") {
		t.Fatalf("calls %v", r.calls)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after Abort succeeded")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Abort succeeded")
	}
	// Abort before any part was sent starts and aborts nothing.
	r = &recorder{}
	w = NewWriter(context.Background(), r, cfg)
	if _, err := w.Write(data(5)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil || len(r.calls) != 0 {
		t.Fatalf("Abort = %v, calls %v", err, r.calls)
	}
}

// TestBoundedInFlight holds every part upload until released and checks
// that no more than MaxInFlight run at once while the writer blocks.
func TestBoundedInFlight(t *testing.T) {
	for _, inFlight := range []int{1, 3} {
		r := &recorder{gate: make(chan struct{})}
		c := cfg
		c.MaxInFlight = inFlight
		c.GrowEvery = 1000
		w := NewWriter(context.Background(), r, c)
		done := make(chan error)
		go func() {
			_, err := w.Write(data(10 * 10))
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("MaxInFlight %d: Write of 10 parts returned (%v) while all uploads were held", inFlight, err)
		default:
		}
		go func() {
			for range 10 {
				r.gate <- struct{}{}
			}
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if r.maxFlight != inFlight {
			t.Errorf("MaxInFlight %d: %d uploads ran at once", inFlight, r.maxFlight)
		}
		if !bytes.Equal(r.object(10), data(100)) {
			t.Error("object differs")
		}
		// Bodies are fenced once their upload returned.
		for _, b := range r.bodies {
			if _, err := b.Read(make([]byte, 1)); !errors.Is(err, errFenced) {
				t.Fatalf("read after upload: %v, want errFenced", err)
			}
		}
	}
}

func TestTooLarge(t *testing.T) {
	r := &recorder{}
	w := NewWriter(context.Background(), r, Config{PartSize: 4, MaxPartSize: 4, MaxParts: 3})
	_, err := w.Write(data(13))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write of 13 bytes into 3×4: %v, want ErrTooLarge", err)
	}
	if err := w.Close(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Close = %v", err)
	}
	if !r.has("abort") {
		t.Fatalf("calls %v: want abort", r.calls)
	}
}

func TestCanceledContext(t *testing.T) {
	r := &recorder{gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	w := NewWriter(ctx, r, cfg)
	if _, err := w.Write(data(15)); err != nil { // part 1 is held at the gate
		t.Fatal(err)
	}
	cancel()
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	if !r.has("abort") {
		t.Fatalf("calls %v: want abort despite the canceled context", r.calls)
	}
}

func TestBody(t *testing.T) {
	b := NewBody([]byte("hello"))
	if b.Len() != 5 || b.Size() != 5 {
		t.Fatal("Len/Size")
	}
	p := make([]byte, 2)
	if n, _ := b.Read(p); n != 2 || b.Len() != 3 {
		t.Fatalf("read %d, Len %d", n, b.Len())
	}
	if pos, err := b.Seek(0, io.SeekEnd); pos != 5 || err != nil {
		t.Fatalf("Seek end = %d, %v", pos, err)
	}
	if pos, err := b.Seek(-4, io.SeekCurrent); pos != 1 || err != nil {
		t.Fatalf("Seek current = %d, %v", pos, err)
	}
	rest, _ := io.ReadAll(b)
	if string(rest) != "ello" {
		t.Fatalf("rest %q", rest)
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek accepted")
	}
	b.Fence()
	if _, err := b.Seek(0, io.SeekStart); !errors.Is(err, errFenced) {
		t.Fatal("seek after fence")
	}
}

// TestBodyWriteTo checks that io.Copy from a Body writes what is left
// unread, leaves it at the end, starts over after a rewind, and fails
// once fenced.
func TestBodyWriteTo(t *testing.T) {
	b := NewBody([]byte("hello world"))
	if _, err := b.Seek(6, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n, err := io.Copy(&out, b); n != 5 || err != nil || out.String() != "world" {
		t.Fatalf("copy after seek = %d %v %q", n, err, out.String())
	}
	if b.Len() != 0 {
		t.Fatalf("Len after copy = %d", b.Len())
	}
	if n, err := b.WriteTo(&out); n != 0 || err != nil {
		t.Fatalf("WriteTo at end = %d, %v", n, err)
	}
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := io.Copy(&out, b); err != nil || out.String() != "hello world" {
		t.Fatalf("copy after rewind = %v %q", err, out.String())
	}
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b.Fence()
	if _, err := b.WriteTo(&out); !errors.Is(err, errFenced) {
		t.Fatalf("WriteTo after fence = %v", err)
	}
}
