// Package build holds what goes into the desktop app's packages (Wails'
// build folder): appicon.png, embedded once for the app's window and for the
// Linux package's icon theme files, which are scaled from it when they are
// made; and the licence notices of the Go code linked into the app.
package build

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
)

//go:embed appicon.png
var appIcon []byte

// Icon is the app icon scaled to size×size pixels, as a PNG.
func Icon(size int) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(appIcon))
	if err != nil {
		return nil, fmt.Errorf("decode appicon.png: %w", err)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, Scale(src, size, size)); err != nil {
		return nil, fmt.Errorf("encode %dpx icon: %w", size, err)
	}
	return out.Bytes(), nil
}

// Scale resizes src to w×h by averaging the source pixels each output pixel
// covers (weighted by alpha, so transparent edges do not darken): the right
// filter for shrinking an icon, where nearest-neighbour would drop the thin
// lines that a small icon still needs a trace of.
func Scale(src image.Image, w, h int) *image.NRGBA {
	b := src.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy())) // premultiplied
	draw.Draw(rgba, rgba.Bounds(), src, b.Min, draw.Src)
	xs, ys := spans(b.Dx(), w), spans(b.Dy(), h)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y, ry := range ys {
		for x, rx := range xs {
			var r, g, bl, a float64
			for _, sy := range ry {
				row := rgba.Pix[sy.i*rgba.Stride:]
				for _, sx := range rx {
					p := row[sx.i*4 : sx.i*4+4]
					wt := sx.w * sy.w
					r += wt * float64(p[0])
					g += wt * float64(p[1])
					bl += wt * float64(p[2])
					a += wt * float64(p[3])
				}
			}
			if a < 0.5 {
				continue // transparent
			}
			un := func(v float64) uint8 { return uint8(math.Min(255, math.Round(v*255/a))) }
			dst.SetNRGBA(x, y, color.NRGBA{un(r), un(g), un(bl), uint8(math.Round(a))})
		}
	}
	return dst
}

type weight struct {
	i int
	w float64
}

// spans lists, for each of n output positions, the source positions of a
// line of length m that it covers and how much of each (summing to 1).
func spans(m, n int) [][]weight {
	out := make([][]weight, n)
	scale := float64(m) / float64(n)
	for d := range out {
		lo, hi := float64(d)*scale, float64(d+1)*scale
		for i := int(lo); i < m && float64(i) < hi; i++ {
			cover := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
			if cover > 0 {
				out[d] = append(out[d], weight{i, cover / scale})
			}
		}
	}
	return out
}
