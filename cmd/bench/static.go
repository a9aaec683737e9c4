package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/digital-citizenship/functions/pkg/localstack"
)

// Init is one function's cold-start init next to hello-world's, measured
// alternately in the same run.
type Init struct {
	Function string  `json:"function"`
	Median   float64 `json:"median_ms"`
	Hello    float64 `json:"hello_median_ms"`
	Ratio    float64 `json:"ratio"`
}

// measureInits starts each function and the hello-world binary rounds
// times each, alternating, and reports the medians and the median of the
// paired ratios (each start next to the hello-world start just before it,
// so that the machine's drift cancels). env is each function's
// environment (init reads it and builds its clients).
func measureInits(bins map[string]string, envs map[string]map[string]string, hello string, rounds int) ([]Init, error) {
	var out []Init
	names := make([]string, 0, len(bins))
	for n := range bins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		var fn, hw, ratios []time.Duration // ratios in thousandths
		for range rounds {
			h, err := localstack.MeasureInit(hello, envs[name])
			if err != nil {
				return nil, fmt.Errorf("hello: %w", err)
			}
			f, err := localstack.MeasureInit(bins[name], envs[name])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			hw, fn, ratios = append(hw, h), append(fn, f), append(ratios, 1000*f/h)
		}
		out = append(out, Init{Function: name, Median: ms(median(fn)), Hello: ms(median(hw)), Ratio: float64(median(ratios)) / 1000})
	}
	return out, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Size is one deployable bootstrap (linux/arm64) next to hello-world's.
type Size struct {
	Function string  `json:"function"`
	Bytes    int64   `json:"bytes"`
	Ratio    float64 `json:"ratio"`
}

func measureSizes(lambdaDir string, dirs []string, hello string) ([]Size, int64, error) {
	hs, err := os.Stat(hello)
	if err != nil {
		return nil, 0, err
	}
	var out []Size
	for _, d := range dirs {
		st, err := os.Stat(filepath.Join(lambdaDir, d, "bootstrap"))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Size{Function: d, Bytes: st.Size(), Ratio: float64(st.Size()) / float64(hs.Size())})
	}
	return out, hs.Size(), nil
}
