// Command libcni-driver calls CNI plugins the way a container runtime does: through
// libcni, with a conflist, a RuntimeConf and capability arguments. Tests use it to
// prove that trellis-cni chains with other plugins under the runtime's own library.
//
//	libcni-driver <add|check|del|gc|status> --conflist FILE --bin-dir DIR[:DIR]
//	    --netns PATH --id CONTAINERID --ifname eth0 [--cache-dir DIR]
//	    [--port-mappings JSON] [--valid-attachments JSON]
//
// add prints the chain's result; errors go to stderr (and, when a plugin returned a
// CNI error, its JSON to stdout) with a non-zero exit.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

type options struct {
	conflist         string
	binDirs          []string
	netns            string
	containerID      string
	ifName           string
	cacheDir         string
	portMappings     string
	validAttachments string
}

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: libcni-driver <add|check|del|gc|status> --conflist FILE --bin-dir DIR[:DIR] --netns PATH --id CONTAINERID --ifname IFNAME [--cache-dir DIR] [--port-mappings JSON] [--valid-attachments JSON]"))
	}
	verb := os.Args[1]
	opts, err := parseOptions(os.Args[2:])
	if err != nil {
		fail(err)
	}
	list, err := libcni.ConfListFromFile(opts.conflist)
	if err != nil {
		fail(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(opts.binDirs, opts.cacheDir, nil)
	runtime, err := runtimeConf(opts)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	switch verb {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, runtime)
		if err != nil {
			fail(err)
		}
		if err := result.Print(); err != nil {
			fail(err)
		}
	case "check":
		err = cni.CheckNetworkList(ctx, list, runtime)
	case "del":
		err = cni.DelNetworkList(ctx, list, runtime)
	case "gc":
		err = garbageCollect(ctx, list, opts)
	case "status":
		err = status(ctx, list, opts)
	default:
		err = fmt.Errorf("unknown verb %q: want add, check, del, gc or status", verb)
	}
	if err != nil {
		fail(err)
	}
}

func parseOptions(args []string) (options, error) {
	var opts options
	var binDir string
	flags := flag.NewFlagSet("libcni-driver", flag.ContinueOnError)
	flags.StringVar(&opts.conflist, "conflist", "", "network configuration list file")
	flags.StringVar(&binDir, "bin-dir", "", "plugin directories, colon-separated")
	flags.StringVar(&opts.netns, "netns", "", "path of the container's network namespace")
	flags.StringVar(&opts.containerID, "id", "", "container ID")
	flags.StringVar(&opts.ifName, "ifname", "eth0", "interface name inside the container")
	flags.StringVar(&opts.cacheDir, "cache-dir", "", "libcni result cache directory (default /var/lib/cni)")
	flags.StringVar(&opts.portMappings, "port-mappings", "", "portMappings capability argument, JSON array")
	flags.StringVar(&opts.validAttachments, "valid-attachments", "[]", "attachments GC keeps, JSON array of {containerID, ifname}")
	if err := flags.Parse(args); err != nil {
		return opts, err
	}
	if opts.conflist == "" || binDir == "" {
		return opts, errors.New("--conflist and --bin-dir are required")
	}
	opts.binDirs = filepath.SplitList(binDir)
	return opts, nil
}

func runtimeConf(opts options) (*libcni.RuntimeConf, error) {
	runtime := &libcni.RuntimeConf{
		ContainerID:    opts.containerID,
		NetNS:          opts.netns,
		IfName:         opts.ifName,
		CapabilityArgs: map[string]interface{}{},
	}
	if opts.portMappings != "" {
		var mappings []map[string]interface{}
		if err := json.Unmarshal([]byte(opts.portMappings), &mappings); err != nil {
			return nil, fmt.Errorf("--port-mappings %q: %w", opts.portMappings, err)
		}
		runtime.CapabilityArgs["portMappings"] = mappings
	}
	return runtime, nil
}

// libcni 1.1.2 predates the GC and STATUS verbs of spec 1.1.0, so they are sent the
// way later libcni versions send them: to every plugin of a list at 1.1.0 or above.
func garbageCollect(ctx context.Context, list *libcni.NetworkConfigList, opts options) error {
	var attachments []map[string]interface{}
	if err := json.Unmarshal([]byte(opts.validAttachments), &attachments); err != nil {
		return fmt.Errorf("--valid-attachments %q: %w", opts.validAttachments, err)
	}
	return forEachPlugin(ctx, list, opts, "GC", map[string]interface{}{"cni.dev/valid-attachments": attachments})
}

func status(ctx context.Context, list *libcni.NetworkConfigList, opts options) error {
	return forEachPlugin(ctx, list, opts, "STATUS", nil)
}

func forEachPlugin(ctx context.Context, list *libcni.NetworkConfigList, opts options, command string, extra map[string]interface{}) error {
	if atLeast, err := version.GreaterThanOrEqualTo(list.CNIVersion, "1.1.0"); err != nil || !atLeast {
		return fmt.Errorf("%s needs a conflist at cniVersion 1.1.0 or later, %s is at %q", command, opts.conflist, list.CNIVersion)
	}
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}, PluginDecoder: version.PluginDecoder{}}
	for _, plugin := range list.Plugins {
		inject := map[string]interface{}{"name": list.Name, "cniVersion": list.CNIVersion}
		for key, value := range extra {
			inject[key] = value
		}
		conf, err := libcni.InjectConf(plugin, inject)
		if err != nil {
			return err
		}
		path, err := exec.FindInPath(plugin.Network.Type, opts.binDirs)
		if err != nil {
			return err
		}
		args := &invoke.Args{Command: command, Path: strings.Join(opts.binDirs, string(os.PathListSeparator))}
		if err := invoke.ExecPluginWithoutResult(ctx, path, conf.Bytes, args, exec); err != nil {
			return fmt.Errorf("plugin %s: %w", plugin.Network.Type, err)
		}
	}
	return nil
}

func fail(err error) {
	var cniErr *types.Error
	if errors.As(err, &cniErr) {
		_ = json.NewEncoder(os.Stdout).Encode(cniErr)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
