package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/sim"
)

func newSimulateCmd() *cobra.Command {
	var listen, user, password string
	var speed float64
	var seed int64
	var phones bool
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run the simulated Asterisk (ARI over HTTP and WebSocket) on its own",
		Long: `simulate serves the ARI simulator so any ARI program can be tested against it.

Scripted parties are addressed as endpoints; see README.md ("The simulator").`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" || password == "" {
				return &exitError{code: 2, err: fmt.Errorf("--user and --password are required")}
			}
			s := sim.New(sim.Options{User: user, Password: password, Speed: speed, Seed: seed,
				Logger: newLogger(cmd.ErrOrStderr(), "info", "text")})
			if phones {
				s.AddDefaultPhones()
			}
			if err := s.Start(listen); err != nil {
				return err
			}
			defer s.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "ARI simulator at %s (events %s)\n", s.URL(), s.WebsocketURL())
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8088", "address to serve ARI on")
	cmd.Flags().StringVar(&user, "user", "", "ARI user (basic auth)")
	cmd.Flags().StringVar(&password, "password", "", "ARI password (basic auth)")
	cmd.Flags().Float64Var(&speed, "speed", 1, "simulated seconds per wall-clock second")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed for drawn durations")
	cmd.Flags().BoolVar(&phones, "phones", true, "register desk phones PJSIP/1001-1010")
	return cmd
}
