package layers

import "testing"

func TestBatchChunks(t *testing.T) {
	for _, c := range []struct{ batch, want int }{{1, 1}, {31, 1}, {32, 2}, {100, 2}, {500, 2}} {
		if got := BatchChunks(c.batch); got != c.want {
			t.Errorf("BatchChunks(%d) = %d, want %d", c.batch, got, c.want)
		}
	}
}
