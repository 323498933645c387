// Command dcsim-vcsim is dc-sim's vCenter simulator: govmomi's simulator package
// serving an empty inventory (dc-sim seeds it from the simulation) over plain HTTP
// and TLS on two loopback ports, with two differences from the upstream vcsim main:
//
//   - PropertyCollector.Fetch of an unset property answers an empty FetchResponse,
//     as vCenter does; upstream answers a RetrievePropertiesEx body that pyvmomi
//     cannot parse (so `if vm.snapshot:` raised on a VM without snapshots).
//   - It prints one JSON line with both URLs once it listens, so the supervisor
//     in dcsim-vmware knows when it is ready without polling.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

const emptyFetch = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" ` +
	`xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
	`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
	`<soapenv:Body><FetchResponse xmlns="urn:vim25"></FetchResponse></soapenv:Body></soapenv:Envelope>`

// emptyEnums are enum properties the simulator leaves empty on VMs it creates; vCenter
// never answers an empty enum, and pyvmomi cannot read one (the whole property raises).
var emptyEnums = map[string]string{
	"faultToleranceState": "notConfigured",
	"recordReplayState":   "inactive",
}

// vCenterAnswers makes the simulator's SOAP answers the ones vCenter gives: an unset
// property's Fetch answers an empty FetchResponse, and empty enums carry their default.
func vCenterAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		out := rec.Body.Bytes()
		if bytes.Contains(body, []byte("<Fetch ")) && bytes.Contains(out, []byte("RetrievePropertiesExResponse")) {
			out = []byte(emptyFetch)
		}
		for name, value := range emptyEnums {
			out = bytes.ReplaceAll(out, []byte("<"+name+"></"+name+">"), []byte("<"+name+">"+value+"</"+name+">"))
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
	})
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:0", "plain HTTP listen address")
	httpsAddr := flag.String("https", "127.0.0.1:0", "TLS listen address")
	cert := flag.String("tlscert", "", "PEM certificate file")
	key := flag.String("tlskey", "", "PEM key file")
	user := flag.String("username", "", "login user name (empty: any)")
	pass := flag.String("password", "", "login password (empty: any)")
	flag.BoolVar(&simulator.Trace, "trace", false, "trace SOAP to stderr")
	flag.Parse()

	model := simulator.VPX()
	model.Datacenter = 0
	model.Host = 0
	model.Machine = 0
	model.Portgroup = 0
	model.Autostart = false
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	internalURL := &url.URL{Host: "127.0.0.1:0"}
	if *user != "" {
		internalURL.User = url.UserPassword(*user, *pass)
	}
	model.Service.Listen = internalURL
	model.Service.RegisterEndpoints = true
	model.Service.ServeMux = http.NewServeMux()
	server := model.Service.NewServer()
	handler := vCenterAnswers(model.Service.ServeMux)

	plain, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	secure, err := net.Listen("tcp", *httpsAddr)
	if err != nil {
		log.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(http.Serve(plain, handler)) }()
	go func() {
		log.Fatal(http.Serve(tls.NewListener(secure, &tls.Config{Certificates: []tls.Certificate{pair}}), handler))
	}()

	ready, _ := json.Marshal(map[string]string{
		"http":  "http://" + plain.Addr().String() + "/sdk",
		"https": "https://" + secure.Addr().String() + "/sdk",
	})
	os.Stdout.Write(append(ready, '\n'))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	server.Close()
	model.Remove()
}
