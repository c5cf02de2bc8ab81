// etcd, as upstream server/main.go. go.etcd.io/etcd/server/v3 cannot be `go install`ed (its
// go.mod replaces api, client and pkg with ../ paths); as a dependency its requires point at
// real tags, so this wrapper needs no replace lines. A module of its own because etcd's grpc
// and otel pins conflict with the Kubernetes module graph.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
