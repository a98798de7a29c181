package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
)

// Many uploads at once through stores sharing a budget of two buffers all
// complete, byte-identical, with nothing held afterwards.
func TestS3UploadsShareBudget(t *testing.T) {
	gw := s3test.Start(t)
	gw.CreateBucket(t, "one")
	gw.CreateBucket(t, "two")
	budget := storage.NewBudget(2 * storage.PartSize)
	open := func(bucket string) *storage.S3 {
		o := gw.Options(bucket)
		o.Budget, o.Concurrency = budget, 4
		st, err := storage.NewS3(context.Background(), o, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	stores := []*storage.S3{open("one"), open("two")}

	const uploads = 8
	contents := make([][]byte, uploads)
	errs := make(chan error, uploads)
	for i := range uploads {
		contents[i] = make([]byte, 11<<20+1000*i) // three parts, the last one short
		rand.Read(contents[i])
		go func() {
			_, err := stores[i%2].Put(context.Background(), fmt.Sprintf("k%d", i), bytes.NewReader(contents[i]), "")
			errs <- err
		}()
	}
	for range uploads {
		if err := receive(t, errs, 3*time.Minute, "the uploads to end"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uploads {
		got, err := storage.ReadAll(context.Background(), stores[i%2], fmt.Sprintf("k%d", i))
		if err != nil || !bytes.Equal(got, contents[i]) {
			t.Errorf("object %d: got %d bytes (%v), want the %d put", i, len(got), err, len(contents[i]))
		}
	}
	if budget.InUse() != 0 || budget.Waiting() != 0 {
		t.Errorf("afterwards: got %d buffers in use and %d uploads waiting, want none", budget.InUse(), budget.Waiting())
	}
	if open := append(gw.OpenUploads(t, "one"), gw.OpenUploads(t, "two")...); len(open) != 0 {
		t.Errorf("open multipart uploads left: %v", open)
	}
}

// A source that stalls while its upload holds the only buffer keeps the next
// upload waiting only until the read is cut (in the server, by the stall
// deadline on the request body): then the next one goes through.
func TestS3StalledUploadReleasesBudget(t *testing.T) {
	gw := s3test.Start(t)
	gw.CreateBucket(t, "one")
	budget := storage.NewBudget(storage.PartSize)
	o := gw.Options("one")
	o.Budget = budget
	st, err := storage.NewS3(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}

	stallCtx, cut := context.WithCancel(context.Background())
	stalled := make(chan error, 1)
	go func() {
		src := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), stallReader{stallCtx})
		_, err := st.Put(context.Background(), "stalled", src, "")
		stalled <- err
	}()
	apptest.Eventually(t, 10*time.Second, "the stalled upload to take its buffer", func() bool { return budget.InUse() == 1 })

	content := make([]byte, 7<<20)
	rand.Read(content)
	next := make(chan error, 1)
	go func() {
		_, err := st.Put(context.Background(), "next", bytes.NewReader(content), "")
		next <- err
	}()
	apptest.Eventually(t, 10*time.Second, "the second upload to wait for memory", func() bool { return budget.Waiting() == 1 })
	select {
	case err := <-next:
		t.Fatalf("the second upload finished (%v) while the only buffer was held", err)
	case <-time.After(200 * time.Millisecond):
	}

	cut()
	if err := <-stalled; !errors.Is(err, context.Canceled) {
		t.Errorf("stalled upload: got %v, want it cut", err)
	}
	if err := receive(t, next, 2*time.Minute, "the second upload to go through once the stalled one was cut"); err != nil {
		t.Fatal(err)
	}
	if got, err := storage.ReadAll(context.Background(), st, "next"); err != nil || !bytes.Equal(got, content) {
		t.Errorf("second upload: got %d bytes (%v), want the %d put", len(got), err, len(content))
	}
	if _, err := st.Stat(context.Background(), "stalled"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stalled upload: stat got %v, want not found", err)
	}
	if budget.InUse() != 0 {
		t.Errorf("afterwards: got %d buffers in use, want 0", budget.InUse())
	}
}

// receive returns what ch gives, and fails the test if it gives nothing
// within limit.
func receive(t *testing.T, ch <-chan error, limit time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(limit):
		t.Fatalf("timed out after %v waiting for %s", limit, what)
		return nil
	}
}

// stallReader blocks until its context ends, as a request body whose client
// has gone quiet does until the read deadline.
type stallReader struct{ ctx context.Context }

func (r stallReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}
