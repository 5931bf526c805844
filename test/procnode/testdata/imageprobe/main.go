// Command imageprobe is the program of the image TestRegistryImage runs: it prints, one
// "key=value" a line, what a container sees of its identity, environment and file
// system.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	cwd, _ := os.Getwd()
	hosts, _ := os.ReadFile("/etc/hosts")
	fmt.Printf("uid=%d\ngid=%d\ncwd=%s\nhome=%s\ngreeting=%s\nargs=%s\n",
		os.Getuid(), os.Getgid(), cwd, os.Getenv("HOME"), os.Getenv("GREETING"), strings.Join(os.Args[1:], ","))
	fmt.Printf("hosts-names-me=%t\n", strings.Contains(string(hosts), os.Getenv("HOSTNAME")))
	fmt.Printf("root-writable=%t\nscratch-writable=%t\n", writable("/probe"), writable("/scratch/probe"))
	_, err := os.Stat("/bin/bash") // the node's, not the image's
	fmt.Printf("host-visible=%t\n", err == nil)
	// The volume mounted at /var/run/shared (/var/run links to /run in the image).
	_, err = os.Stat("/run/shared/probe")
	fmt.Printf("through-image-link=%t\n", err == nil)
}

func writable(path string) bool {
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return false
	}
	return true
}
