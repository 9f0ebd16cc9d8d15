package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/app"
	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/ivr"
	"github.com/switchboard/switchboard/ivr/registry"
)

func newValidateCmd() *cobra.Command {
	var path string
	var pbx bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration and its IVR flows; list every problem with file:line",
		Long: `validate checks the configuration file and every IVR flow it uses (in the
file itself and under ivr.flows_dir): unknown node targets, unreachable nodes,
loops that take no caller input, unknown queues, calendars and variables, bad
expressions and durations; queue exit targets naming no flow; bad numbers in
VIP list files. Every problem is printed as file:line: reason.

With --pbx it also connects to the Asterisk in the configuration and reports
prompts whose sound file Asterisk does not have.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			errOut := cmd.ErrOrStderr()
			cfg, err := config.Load(path)
			if err != nil {
				fmt.Fprintln(errOut, err)
				return &exitError{code: 2, err: fmt.Errorf("%s is not valid", path)}
			}
			set, err := registry.Load(cfg)
			if err != nil {
				fmt.Fprintln(errOut, err)
				return &exitError{code: 2, err: fmt.Errorf("the IVR flows of %s are not valid", path)}
			}
			var flows []string
			if set != nil {
				for n := range set.Flows {
					flows = append(flows, n)
				}
			}
			if err := cfg.CheckTargets(flows); err != nil {
				fmt.Fprintln(errOut, err)
				return &exitError{code: 2, err: fmt.Errorf("the queue exit targets of %s are not valid", path)}
			}
			if _, err := cfg.LoadVIP(); err != nil {
				fmt.Fprintln(errOut, err)
				return &exitError{code: 2, err: fmt.Errorf("the VIP lists of %s are not valid", path)}
			}
			if _, err := app.BuildRouter(cfg); err != nil {
				fmt.Fprintln(errOut, err)
				return &exitError{code: 2, err: fmt.Errorf("the routing of %s is not valid", path)}
			}
			if pbx {
				problems, err := checkSounds(cmd.Context(), cfg, set)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				for _, p := range problems {
					fmt.Fprintln(errOut, p.String())
				}
				if len(problems) > 0 {
					return &exitError{code: 2, err: fmt.Errorf("%d prompts are missing on the PBX", len(problems))}
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: ok\n", path)
			if set != nil && len(set.Flows) > 0 {
				names := make([]string, 0, len(set.Flows))
				for n := range set.Flows {
					names = append(names, n)
				}
				slices.Sort(names)
				fmt.Fprintf(out, "flows: %v (%d files, checksum %s)\n", names, len(set.Files), set.Checksum[:12])
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "switchboard.yaml", "configuration file")
	cmd.Flags().BoolVar(&pbx, "pbx", false, "also check prompts against the sounds of the configured Asterisk")
	return cmd
}

// checkSounds lists the flows' prompts that the PBX has no sound file for.
func checkSounds(ctx context.Context, cfg *config.Config, set *ivr.Set) ([]ivr.Problem, error) {
	ac := cfg.Asterisk
	conf := app.ARIConfig(ac)
	conf.Logger = slog.New(slog.DiscardHandler)
	a, err := ari.New(conf)
	if err != nil {
		return nil, fmt.Errorf("asterisk: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sounds, err := a.Sounds(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking %s for its sounds: %w", ac.URL, err)
	}
	return ivr.CheckSounds(set, func(name, lang string) bool {
		langs, ok := sounds[name]
		return ok && (lang == "" || len(langs) == 0 || slices.Contains(langs, lang))
	}), nil
}
