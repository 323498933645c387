// Command perf_loadgen sends GET requests over keep-alive connections for a fixed time
// and prints one JSON line: requests, errors, seconds, requests per second and p50/p99.
//
// A closed-loop load generator for bench/run: each of -c goroutines owns one connection
// and sends its next request when the previous answer is read. Written in Go, standard
// library only, so that on a 2-core machine the client costs the server less CPU than a
// Python client would; bench/run builds it with `go build` on first use.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

type result struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
}

func main() {
	url := flag.String("url", "", "URL to GET")
	connections := flag.Int("c", 50, "concurrent connections")
	duration := flag.Duration("d", 10*time.Second, "how long to send requests")
	warmup := flag.Duration("warmup", time.Second, "requests sent before measuring")
	header := flag.String("H", "", "one extra header, 'Name: value'")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "perf_loadgen: -url is required")
		os.Exit(2)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: *connections, MaxConnsPerHost: *connections, DisableCompression: true}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	name, value := splitHeader(*header)

	run(client, *url, name, value, *connections, *warmup)
	started := time.Now()
	latencies, errors := run(client, *url, name, value, *connections, *duration)
	seconds := time.Since(started).Seconds()

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	out := result{Requests: len(latencies), Errors: errors, Seconds: seconds, RPS: float64(len(latencies)) / seconds}
	if len(latencies) > 0 {
		out.P50Ms = latencies[len(latencies)/2].Seconds() * 1000
		out.P99Ms = latencies[len(latencies)*99/100].Seconds() * 1000
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}

func splitHeader(header string) (string, string) {
	for i := 0; i+1 < len(header); i++ {
		if header[i] == ':' {
			return header[:i], trimSpace(header[i+1:])
		}
	}
	return "", ""
}

func trimSpace(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// run sends requests from connections goroutines for duration; the latencies of the 200
// answers and the count of everything else (transport errors and other statuses).
func run(client *http.Client, url, name, value string, connections int, duration time.Duration) ([]time.Duration, int) {
	deadline := time.Now().Add(duration)
	var mu sync.Mutex
	var all []time.Duration
	errors := 0
	var wg sync.WaitGroup
	for i := 0; i < connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			failed := 0
			for time.Now().Before(deadline) {
				request, _ := http.NewRequest(http.MethodGet, url, nil)
				if name != "" {
					request.Header.Set(name, value)
				}
				sent := time.Now()
				response, err := client.Do(request)
				if err != nil {
					failed++
					continue
				}
				_, _ = io.Copy(io.Discard, response.Body)
				response.Body.Close()
				if response.StatusCode != http.StatusOK {
					failed++
					continue
				}
				mine = append(mine, time.Since(sent))
			}
			mu.Lock()
			all = append(all, mine...)
			errors += failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, errors
}
