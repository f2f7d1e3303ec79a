package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/web"
)

func newUsersCmd(e *env) *cobra.Command {
	var store storeFlag
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage who may sign in to the web page (wvbatch serve)",
		Long: `users adds, lists and removes the people who may sign in to 'wvbatch serve', and
sets their passwords. Roles: viewer (sees runs and reports), orderer (uploads,
orders, cancels, reschedules), admin (users and jobs too). Passwords are read
from the terminal, or from the first line of standard input with
--password-stdin; they are stored only as argon2id hashes.`,
	}
	store.bind(cmd.PersistentFlags())
	cmd.AddCommand(newUsersAddCmd(e, &store), newUsersPasswdCmd(e, &store), newUsersRemoveCmd(e, &store), newUsersListCmd(e, &store))
	return cmd
}

func newUsersAddCmd(e *env, store *storeFlag) *cobra.Command {
	var role string
	var sso, stdin bool
	add := &cobra.Command{
		Use:   "add NAME --role viewer|orderer|admin",
		Short: "Add a user",
		Args:  exactArgs(1, "name the user: wvbatch users add jane.doe --role orderer"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var password func() (string, error)
			if !sso {
				password = func() (string, error) { return readNewPassword(e, stdin) }
			}
			u, err := web.NewUser(name, role, password)
			if err != nil {
				return userErr(err)
			}
			st, err := store.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.AddUser(u); errors.Is(err, runstore.ErrUserExists) {
				return usageErr(fmt.Errorf("there is a user %s already", name), "'wvbatch users passwd "+name+"' sets a new password")
			} else if err != nil {
				return err
			}
			audit := auditLogger(e)
			audit.Info().Str("audit", "user-add").Str("user", name).Str("role", role).Str("by", osUser(e)).Msg("user added")
			fmt.Fprintf(e.stdout, "added %s (%s)\n", name, role)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "viewer, orderer or admin")
	add.Flags().BoolVar(&sso, "sso", false, "no password: the user signs in only through the reverse proxy's --auth-header")
	add.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of standard input")
	return add
}

func newUsersPasswdCmd(e *env, store *storeFlag) *cobra.Command {
	var pstdin bool
	var newRole string
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password (or role, with --role); their sessions end",
		Args:  exactArgs(1, "name the user: wvbatch users passwd jane.doe"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h string
			if newRole != "" {
				if err := web.CheckRole(newRole); err != nil {
					return userErr(err)
				}
			} else if pw, err := readNewPassword(e, pstdin); err != nil {
				return err
			} else if h, err = web.HashNewPassword(pw); err != nil {
				return userErr(err)
			}
			st, err := store.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := web.ChangeUser(st, args[0], h, newRole); errors.Is(err, runstore.ErrNotFound) {
				return usageErr(fmt.Errorf("there is no user %s", args[0]), "'wvbatch users list' lists them")
			} else if err != nil {
				return err
			}
			what := "password"
			if newRole != "" {
				what = "role " + newRole
			}
			audit := auditLogger(e)
			audit.Info().Str("audit", "user-change").Str("user", args[0]).Str("change", what).Str("by", osUser(e)).Msg("user changed")
			fmt.Fprintf(e.stdout, "%s: new %s; their sessions have ended\n", args[0], what)
			return nil
		},
	}
	passwd.Flags().BoolVar(&pstdin, "password-stdin", false, "read the password from the first line of standard input")
	passwd.Flags().StringVar(&newRole, "role", "", "set the role instead of the password")
	return passwd
}

func newUsersRemoveCmd(e *env, store *storeFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a user and end their sessions",
		Args:  exactArgs(1, "name the user: wvbatch users remove jane.doe"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := store.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RemoveUser(args[0]); errors.Is(err, runstore.ErrNotFound) {
				return usageErr(fmt.Errorf("there is no user %s", args[0]), "'wvbatch users list' lists them")
			} else if err != nil {
				return err
			}
			audit := auditLogger(e)
			audit.Info().Str("audit", "user-remove").Str("user", args[0]).Str("by", osUser(e)).Msg("user removed")
			fmt.Fprintf(e.stdout, "removed %s\n", args[0])
			return nil
		},
	}
}

func newUsersListCmd(e *env, store *storeFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := store.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			us, err := st.Users()
			if err != nil {
				return err
			}
			web.WriteUsers(e.stdout, us)
			return nil
		},
	}
}

// userErr is the command's error for a user, role or password refused
// (see web.UserError).
func userErr(err error) error {
	var ue *web.UserError
	if !errors.As(err, &ue) {
		return err
	}
	if ue.Field == "role" {
		return usageErr(fmt.Errorf("--%w", ue), ue.Hint)
	}
	return usageErr(ue, ue.Hint)
}

// readNewPassword reads a new password, twice from a terminal, or once
// from standard input.
func readNewPassword(e *env, fromStdin bool) (string, error) {
	var pw string
	if f, ok := e.stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", usageErr(errors.New("the two passwords differ"), "type the same password twice")
		}
		pw = string(a)
	} else {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", usageErr(errors.New("no password on standard input"), "echo the password into the command, or run it on a terminal")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	return pw, nil
}

// osUser names who ran a command, for the audit line.
func osUser(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
