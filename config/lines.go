package config

import (
	"fmt"
	"regexp"
	"strings"
)

// scanKeyLines maps every key and table of a TOML file to the line that
// defines it. Keys are dotted paths; entries of arrays of tables carry their
// index ("app[1].slots.staging.names"), and each path is also recorded
// without indexes ("app.slots.staging.names", first occurrence) for keys
// toml reports without them.
func scanKeyLines(data []byte) map[string]int {
	lines := map[string]int{}
	counts := map[string]int{} // array-of-tables path -> entries so far
	table := ""
	record := func(path string, n int) {
		if _, ok := lines[path]; !ok {
			lines[path] = n
		}
		plain := indexPattern.ReplaceAllString(path, "")
		if _, ok := lines[plain]; !ok {
			lines[plain] = n
		}
	}
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#':
			continue
		case strings.HasPrefix(line, "[["):
			end := strings.Index(line, "]]")
			if end < 0 {
				continue
			}
			parts := splitKey(line[2:end])
			parent := indexedPath(parts[:len(parts)-1], counts)
			counts[joinPath(parent, parts[len(parts)-1])]++
			table = indexedPath(parts, counts)
			record(table, n)
		case line[0] == '[':
			end := strings.Index(line, "]")
			if end < 0 {
				continue
			}
			table = indexedPath(splitKey(line[1:end]), counts)
			record(table, n)
		default:
			eq := strings.Index(line, "=")
			if eq <= 0 || !keyPattern.MatchString(line[:eq]) {
				continue
			}
			path := strings.Join(splitKey(line[:eq]), ".")
			if table != "" {
				path = table + "." + path
			}
			record(path, n)
		}
	}
	return lines
}

var (
	indexPattern = regexp.MustCompile(`\[\d+\]`)
	keyPattern   = regexp.MustCompile(`^[A-Za-z0-9_\-. "']+$`)
)

func splitKey(s string) []string {
	var parts []string
	for _, p := range strings.Split(s, ".") {
		parts = append(parts, strings.Trim(strings.TrimSpace(p), `"'`))
	}
	return parts
}

// indexedPath gives parts with the current index of every array of tables
// in it; counts are keyed by the indexed path of each array.
func indexedPath(parts []string, counts map[string]int) string {
	path := ""
	for _, part := range parts {
		path = joinPath(path, part)
		if c, ok := counts[path]; ok {
			path += fmt.Sprintf("[%d]", c-1)
		}
	}
	return path
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
