package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Every flag of `coffer server` is also a setting of the config file (same name) and of the
// environment (COFFER_ and the name in upper case, dashes as underscores). One flag is set
// from its strongest source only:
//
//	defaults < config file < environment < command line
//
// Nothing here lists the flags: a flag added to the server is a setting everywhere.

// configFlags are the flags that say where the other settings come from, and where the root
// key's secrets are read from.
type configFlags struct {
	file          string // --config, or COFFER_CONFIG
	print         bool   // --print-config
	accessKeyFile string
	secretKeyFile string
}

// isSetting reports whether a flag is a setting of the file and the environment: all are but
// --config, as the file cannot name itself, and --print-config, a command rather than a setting.
func isSetting(name string) bool {
	return name != "config" && name != "print-config"
}

// addConfigFlags defines --config, --print-config, --access-key-file and --secret-key-file.
func addConfigFlags(fs *flag.FlagSet) *configFlags {
	c := &configFlags{}
	fs.StringVar(&c.file, "config", "", "TOML config file: every flag is a key of the same name (env COFFER_CONFIG); the environment (COFFER_<FLAG>) and flags override it")
	fs.BoolVar(&c.print, "print-config", false, "print the settings in effect (defaults, config file, environment, flags) as a config file, and exit")
	fs.StringVar(&c.accessKeyFile, "access-key-file", "", "file holding the root access key (instead of COFFER_ACCESS_KEY)")
	fs.StringVar(&c.secretKeyFile, "secret-key-file", "", "file holding the root secret key (instead of COFFER_SECRET_KEY), mode 0600 or 0400; secrets are never flags or config values")
	return c
}

// envName is the environment variable of the setting name: listen is COFFER_LISTEN.
func envName(name string) string {
	return "COFFER_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// apply sets every flag the command line left unset from the environment or, failing that,
// from the config file; then, for --print-config, prints the settings. It returns done when
// runServer should exit with code: on a bad setting (2), or after printing (0).
func (c *configFlags) apply(fs *flag.FlagSet, getenv func(string) string, stdout, stderr io.Writer) (code int, done bool) {
	if err := c.applySources(fs, getenv); err != nil {
		fmt.Fprintf(stderr, "coffer server: %v\n", oneLine(err))
		return 2, true
	}
	if c.print {
		if err := printConfig(stdout, fs); err != nil {
			fmt.Fprintf(stderr, "coffer server: --print-config: %v\n", oneLine(err))
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func (c *configFlags) applySources(fs *flag.FlagSet, getenv func(string) string) error {
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	path := c.file
	if path == "" {
		path = getenv("COFFER_CONFIG")
	}
	var fromFile map[string][]string
	if path != "" {
		var err error
		if fromFile, err = readConfigFile(fs, path); err != nil {
			return err
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if onCommandLine[f.Name] || !isSetting(f.Name) {
			return
		}
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			if err := setFlag(fs, f, envValues(f, v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			return
		}
		if vs, ok := fromFile[f.Name]; ok {
			if err := setFlag(fs, f, vs); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: %w", path, f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// envValues splits the environment's value of a repeatable flag into one value a line (an
// --hsm holds commas); any other flag takes the value whole.
func envValues(f *flag.Flag, v string) []string {
	if _, ok := f.Value.(*listFlag); ok {
		return strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' })
	}
	return []string{v}
}

// setFlag gives f its values as if each were given with the flag on the command line. An error
// names no value: the value is cut out of the flag's own message, for a setting may hold a
// secret (a database URL with a password, an HSM setting with a PIN pasted by mistake).
func setFlag(fs *flag.FlagSet, f *flag.Flag, values []string) error {
	for _, v := range values {
		if err := fs.Set(f.Name, v); err != nil {
			msg := err.Error()
			if v != "" {
				msg = strings.ReplaceAll(msg, v, "…")
			}
			return fmt.Errorf("invalid value (%s): it takes %s", msg, kindOf(f).want())
		}
	}
	return nil
}

// rootKey returns the root access key and secret key of this run, each from its file or else
// from COFFER_ACCESS_KEY and COFFER_SECRET_KEY; both empty when neither is given.
func (c *configFlags) rootKey(getenv func(string) string) (accessKey, secretKey string, err error) {
	if accessKey, err = fileOrEnv(c.accessKeyFile, "access-key-file", "COFFER_ACCESS_KEY", getenv); err != nil {
		return "", "", err
	}
	if secretKey, err = fileOrEnv(c.secretKeyFile, "secret-key-file", "COFFER_SECRET_KEY", getenv); err != nil {
		return "", "", err
	}
	return accessKey, secretKey, nil
}

func fileOrEnv(path, setting, env string, getenv func(string) string) (string, error) {
	if path == "" {
		return getenv(env), nil
	}
	if getenv(env) != "" {
		return "", fmt.Errorf("both %s and %s are set: give one", setting, env)
	}
	v, err := readSecretFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", setting, err)
	}
	return v, nil
}
