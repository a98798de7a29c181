package build

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestIconSizes(t *testing.T) {
	for _, size := range []int{16, 48, 256} {
		b, err := Icon(size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%dpx: %v", size, err)
		}
		if got := img.Bounds().Size(); got != image.Pt(size, size) {
			t.Errorf("got a %v icon, want %dx%d", got, size, size)
		}
	}
}

// Shrinking averages what each pixel covers: two halves of a 4×1 image
// (opaque red, transparent) give, at 2×1 and 1×1, the colours below; at 1×1
// the transparent half halves the alpha but does not darken the red.
func TestScale(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	for x := range 2 {
		src.SetNRGBA(x, 0, color.NRGBA{255, 0, 0, 255})
	}
	tests := []struct {
		w    int
		want []color.NRGBA
	}{
		{4, []color.NRGBA{{255, 0, 0, 255}, {255, 0, 0, 255}, {}, {}}},
		{2, []color.NRGBA{{255, 0, 0, 255}, {}}},
		{1, []color.NRGBA{{255, 0, 0, 128}}},
		{3, []color.NRGBA{{255, 0, 0, 255}, {255, 0, 0, 128}, {}}},
	}
	for _, tt := range tests {
		dst := Scale(src, tt.w, 1)
		for x, want := range tt.want {
			if got := dst.NRGBAAt(x, 0); got != want {
				t.Errorf("at width %d, pixel %d: got %v, want %v", tt.w, x, got, want)
			}
		}
	}
}
