package testenv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CompatProxy sits between mongo-tools and FerretDB v1 and removes the two
// things mongo-tools send that FerretDB refuses but MongoDB accepts or
// ignores, passing every other byte through unchanged:
//
//   - bypassEmptyTsReplacement on insert commands: FerretDB reports server
//     version 7.0.42, for which mongoimport and mongorestore add the flag
//     (MongoDB 8.0 and 7.0.13+), and FerretDB rejects the whole insert
//     with "unknown field". The flag only matters for documents with a
//     zero timestamp in a top-level field.
//   - "ns" in the index specifications of createIndexes: mongorestore adds
//     it to every index, MongoDB ignores it, FerretDB rejects it.
//
// The data and index definitions the tools send are untouched, so the
// tools remain honest oracles of snapex's output.
type CompatProxy struct {
	// URI is the mongodb:// URI of the proxy.
	URI string
	// Rewritten counts the commands the proxy changed.
	Rewritten atomic.Int64
}

// FerretDBCompat starts a CompatProxy in front of the FerretDB at uri for
// the test's lifetime.
func FerretDBCompat(t testing.TB, uri string) *CompatProxy {
	t.Helper()
	p, stop, err := StartCompatProxy(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return p
}

// StartCompatProxy starts a CompatProxy in front of the FerretDB at uri
// outside a test (the benchmark harness); stop closes its listener.
func StartCompatProxy(uri string) (p *CompatProxy, stop func(), err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, nil, fmt.Errorf("FerretDB URI %q: %w", uri, err)
	}
	upstream := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("compat proxy: %w", err)
	}
	u.Host = ln.Addr().String()
	p = &CompatProxy{URI: u.String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, upstream)
		}
	}()
	return p, func() { _ = ln.Close() }, nil
}

func (p *CompatProxy) serve(client net.Conn, upstream string) {
	defer client.Close()
	server, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(client, server)
		_ = client.Close()
	}()
	for {
		msg, err := readWireMessage(client)
		if err != nil {
			return
		}
		if out, ok := rewriteCommand(msg); ok {
			msg = out
			p.Rewritten.Add(1)
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

func readWireMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < 16 || n > 64<<20 {
		return nil, errors.New("bad wire message length")
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	_, err := io.ReadFull(r, msg[4:])
	return msg, err
}

// rewriteCommand rewrites an OP_MSG whose body (section kind 0) is an
// insert carrying bypassEmptyTsReplacement or a createIndexes whose
// specifications carry "ns".
func rewriteCommand(msg []byte) ([]byte, bool) {
	const opMsg, flagChecksum = 2013, 1
	if len(msg) < 21 || binary.LittleEndian.Uint32(msg[12:]) != opMsg ||
		binary.LittleEndian.Uint32(msg[16:])&flagChecksum != 0 || msg[20] != 0 {
		return nil, false
	}
	body := bson.Raw(msg[21:])
	if len(body) < 5 || int(binary.LittleEndian.Uint32(body)) > len(body) {
		return nil, false
	}
	body = body[:binary.LittleEndian.Uint32(body)]
	elems, err := body.Elements()
	if err != nil || len(elems) == 0 {
		return nil, false
	}
	var doc []byte
	switch elems[0].Key() {
	case "insert":
		doc = withoutField(elems, "bypassEmptyTsReplacement")
	case "createIndexes":
		doc = withoutIndexNS(elems)
	}
	if doc == nil {
		return nil, false
	}
	out := append(append(append([]byte(nil), msg[:21]...), doc...), msg[21+len(body):]...)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out, true
}

// withoutField rebuilds a document without key, or returns nil when the
// key is absent.
func withoutField(elems []bson.RawElement, key string) []byte {
	doc := []byte{0, 0, 0, 0}
	found := false
	for _, e := range elems {
		if e.Key() == key {
			found = true
			continue
		}
		doc = append(doc, e...)
	}
	if !found {
		return nil
	}
	return closeDoc(doc)
}

// withoutIndexNS rebuilds a createIndexes command with "ns" removed from
// every index specification, or returns nil when none had it.
func withoutIndexNS(elems []bson.RawElement) []byte {
	changed := false
	doc := []byte{0, 0, 0, 0}
	for _, e := range elems {
		if e.Key() != "indexes" || e.Value().Type != bson.TypeArray {
			doc = append(doc, e...)
			continue
		}
		specs, err := e.Value().Array().Values()
		if err != nil {
			return nil
		}
		arr := []byte{0, 0, 0, 0}
		for i, v := range specs {
			spec := v.Document()
			fields, err := spec.Elements()
			if err != nil {
				return nil
			}
			trimmed := withoutField(fields, "ns")
			if trimmed == nil {
				trimmed = spec
			} else {
				changed = true
			}
			arr = append(arr, byte(bson.TypeEmbeddedDocument))
			arr = append(arr, strconv.Itoa(i)...)
			arr = append(arr, 0)
			arr = append(arr, trimmed...)
		}
		arr = closeDoc(arr)
		doc = append(doc, byte(bson.TypeArray))
		doc = append(doc, []byte("indexes")...)
		doc = append(doc, 0)
		doc = append(doc, arr...)
	}
	if !changed {
		return nil
	}
	return closeDoc(doc)
}

func closeDoc(doc []byte) []byte {
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))
	return doc
}
