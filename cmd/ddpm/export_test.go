package main

import (
	"slices"
	"testing"
)

func TestParseEpochs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"", nil, true},
		{"1,5,10,15,20", []int{1, 5, 10, 15, 20}, true},
		{" 2 , 3", []int{2, 3}, true},
		{"0", nil, false},
		{"5,1", nil, false},
		{"1,1", nil, false},
		{"1,x", nil, false},
		{"1,", nil, false},
	} {
		got, err := parseEpochs(c.in)
		if (err == nil) != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("parseEpochs(%q) = %v, %v; want %v (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}
