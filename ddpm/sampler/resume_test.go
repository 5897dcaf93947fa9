package sampler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ddpm-go/ddpm/internal/testutil"
)

// A call resumed from the images of its first chunks gives the samples of one uninterrupted call,
// bit for bit, whatever chunk it was interrupted after.
func TestSampleFromResumesBitIdentically(t *testing.T) {
	for _, c := range []struct {
		name    string
		classes int
		labels  []int
		o       Options
	}{
		{"ddpm unconditional", 0, nil, ddpmOptions(21)},
		{"ddim η=0.5 cfg", 10, []int{3, 1, 4, 1, 5, 9, 2},
			Options{Method: "ddim", Steps: 4, Eta: 0.5, ClipX0: true, Seed: 22, Guidance: Guidance{Kind: "cfg", Scale: 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, store := tinyModel(c.classes, 6)
			s := New(testutil.GoBackend(t), store, m)
			o := c.o
			o.BatchSize = 3 // chunks of 3, 3 and 1 for 7 images
			var saved []Partial
			full, err := s.SampleFrom(context.Background(), 7, c.labels, o, nil, nil, func(p Partial) error {
				saved = append(saved, Partial{Images: slices.Clone(p.Images), Seconds: p.Seconds})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(saved) != 3 || len(saved[0].Images) != 3*Pixels || len(saved[1].Images) != 6*Pixels ||
				!slices.Equal(saved[2].Images, full.Images) {
				t.Fatalf("saved %d partials, want 3 of 3, 6 and 7 images, the last equal to the result", len(saved))
			}
			plain, err := s.Sample(context.Background(), 7, c.labels, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plain.Images, full.Images) {
				t.Fatal("SampleFrom from the start differs from Sample")
			}
			for _, p := range saved {
				got, err := s.SampleFrom(context.Background(), 7, c.labels, o, nil, &p, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Images, full.Images) || !slices.Equal(got.Labels, full.Labels) {
					t.Errorf("resumed after %d images: samples differ from the uninterrupted call", len(p.Images)/Pixels)
				}
				if got.Seconds < p.Seconds {
					t.Errorf("resumed after %d images: %.3fs, less than the %.3fs already spent", len(p.Images)/Pixels, got.Seconds, p.Seconds)
				}
			}
		})
	}
}

func TestSampleFromRefusesBadPartials(t *testing.T) {
	m, store := tinyModel(0, 4)
	s := New(testutil.GoBackend(t), store, m)
	o := ddpmOptions(1)
	o.BatchSize = 3
	recording := o
	recording.Record = []int{4}
	for _, c := range []struct {
		name   string
		values int
		o      Options
		want   string
	}{
		{"more than requested", 8 * Pixels, o, "more than the 7 requested"},
		{"broken image", 3*Pixels + 5, o, "not whole 784-pixel images"},
		{"broken batch", 4 * Pixels, o, "not whole batches of 3"},
		{"trajectory", 3 * Pixels, recording, "cannot record a trajectory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.SampleFrom(context.Background(), 7, nil, c.o, nil, &Partial{Images: make([]float32, c.values)}, nil)
			var oe *OptionError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an OptionError containing %q", err, c.want)
			}
		})
	}
	saveErr := errors.New("disk full")
	_, err := s.SampleFrom(context.Background(), 7, nil, o, nil, nil, func(Partial) error { return saveErr })
	if !errors.Is(err, saveErr) || !strings.Contains(err.Error(), "first 3 samples") {
		t.Fatalf("a failing save: got %v, want it wrapped with the sample count", err)
	}
}
