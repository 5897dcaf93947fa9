package mnist

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDir is the MNIST data directory, relative to the repository root.
const DefaultDir = "data/mnist"

// DirEnv names the environment variable that overrides [DefaultDir].
const DirEnv = "DDPM_MNIST_DIR"

// ModulePath is the module whose go.mod marks the repository root.
const ModulePath = "github.com/ddpm-go/ddpm"

// Dir resolves the MNIST data directory: flagValue if non-empty, else $DDPM_MNIST_DIR if set and non-empty, else
// [DefaultDir] under the repository root (found by walking up from the working directory to the go.mod whose
// module is github.com/ddpm-go/ddpm: notebooks run from notebooks/, tests from package dirs), else ./data/mnist
// relative to the working directory.
func Dir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := os.Getenv(DirEnv); env != "" {
		return env
	}
	if wd, err := os.Getwd(); err == nil {
		if root, ok := RepoRoot(wd); ok {
			return filepath.Join(root, filepath.FromSlash(DefaultDir))
		}
	}
	return filepath.FromSlash("./" + DefaultDir)
}

// RepoRoot walks up from start to the directory whose go.mod declares module [ModulePath].
func RepoRoot(start string) (string, bool) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", false
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// modulePath returns the module path declared in a go.mod file, or "" if there is none or it cannot be read.
func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		return strings.Trim(strings.TrimSpace(rest), "\"`")
	}
	return ""
}
