// Package config owns the configuration of the tokend server commands
// (serve, migrate and bootstrap): the Config type, its defaults, the
// command-line flags that set it, and the rules that merge flags, the
// TOKEND_* environment, an optional JSON configuration file and the
// defaults into one validated Config.
//
// Precedence, highest first:
//
//  1. flags given explicitly on the command line;
//  2. the environment: TOKEND_ followed by the flag name upper-cased with
//     dashes turned into underscores (TOKEND_ADDR, TOKEND_READ_TIMEOUT, ...),
//     except --database, which is TOKEND_DATABASE_URL, and --data, which is
//     TOKEND_DATA;
//  3. the JSON file named by --config or TOKEND_CONFIG, whose keys are the
//     flag names ({"addr": "127.0.0.1:8080", "read-timeout": "10s"});
//  4. the defaults returned by Default.
//
// TOKEND_DATABASE_URL_FILE and TOKEND_MASTER_KEY_FILE name files whose
// trimmed content is used instead of TOKEND_DATABASE_URL and
// TOKEND_MASTER_KEY; setting a variable and its _FILE variant together is an
// error. The master key is read only from the environment: it is never a
// flag and never a key of the configuration file, so that it does not end up
// in shell history, process listings or configuration management.
//
// The package reads files and its arguments only; it does not start servers
// or open databases, and it imports no other tokend package.
package config
