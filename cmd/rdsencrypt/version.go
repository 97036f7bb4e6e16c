package main

import "runtime/debug"

// version is the module version and the commit the binary was built from, as the Go
// toolchain records them ("(devel)" for a build inside the repository).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module information)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var commit, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if commit != "" {
		v += " (commit " + commit + modified + ")"
	}
	return v
}
