package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/config"
)

// newCalendarCmd is `switchboard calendar`: check and list the configured
// business-hours calendars.
func newCalendarCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Check business-hours calendars: open or closed, why, and until when",
	}
	cmd.PersistentFlags().StringVarP(&path, "config", "c", "", "configuration file (default: the embedded demo configuration)")
	cmd.AddCommand(newCalendarCheckCmd(&path), newCalendarListCmd(&path))
	return cmd
}

// calendarJSON is one line of `calendar check --json`.
type calendarJSON struct {
	Calendar   string  `json:"calendar"`
	At         string  `json:"at"`
	Open       bool    `json:"open"`
	Reason     string  `json:"reason"`
	NextChange *string `json:"next_change"` // null: no change within 366 days
}

// calendarTime is how times are shown to people.
const calendarTime = "2006-01-02 15:04 MST"

func newCalendarCheckCmd(path *string) *cobra.Command {
	var at string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check NAME",
		Short: "Say whether a calendar is open at an instant (default now), why, and when that changes",
		Example: `  switchboard calendar check support-hours --at 2026-12-24T17:59 --config configs/switchboard.yaml
  switchboard calendar check support-hours --at 2026-12-24T22:59:00Z --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := loadCalendars(cmd, *path)
			if err != nil {
				return err
			}
			cal, ok := set.Get(args[0])
			if !ok {
				return &exitError{code: 2, err: fmt.Errorf("unknown calendar %q (calendars: %s)", args[0], knownCalendars(set))}
			}
			t := time.Now()
			if at != "" {
				if t, err = parseAt(at, cal.Location); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			r := cal.Check(t)
			out := cmd.OutOrStdout()
			if asJSON {
				j := calendarJSON{Calendar: cal.Name, At: r.Local.Format(time.RFC3339), Open: r.Open, Reason: r.Reason}
				if !r.NextChange.IsZero() {
					s := r.NextChange.Format(time.RFC3339)
					j.NextChange = &s
				}
				return json.NewEncoder(out).Encode(j)
			}
			state := "closed"
			if r.Open {
				state = "open"
			}
			next := "no change within a year"
			if !r.NextChange.IsZero() {
				next = "next change " + r.NextChange.Format(calendarTime)
			}
			_, err = fmt.Fprintf(out, "%s: %s at %s (%s); %s\n", cal.Name, state, r.Local.Format(calendarTime), r.Why(), next)
			return err
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "instant to check: RFC 3339 (2026-12-24T22:59:00Z) or 2026-12-24T17:59 in the calendar's zone (default now)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"calendar","at","open","reason","next_change"}`)
	return cmd
}

func newCalendarListCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the calendars: zone, weekly hours, holidays, exceptions, open now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := loadCalendars(cmd, *path)
			if err != nil {
				return err
			}
			if len(set) == 0 {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "no calendars configured")
				return err
			}
			now := time.Now()
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tZONE\tNOW\tHOURS\tHOLIDAYS\tEXCEPTIONS")
			for _, name := range set.Names() {
				c := set[name]
				state := "closed"
				if c.IsOpen(now) {
					state = "open"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\n", name, c.Location, state, c.Summary(), len(c.Holidays), len(c.Exceptions))
			}
			return w.Flush()
		},
	}
}

// loadCalendars loads the configuration at path (the embedded demo when
// empty) and builds its calendars. A configuration that does not validate
// is listed on stderr and exits 2, as `switchboard validate` does.
func loadCalendars(cmd *cobra.Command, path string) (calendar.Set, error) {
	var cfg *config.Config
	var err error
	name := path
	if path == "" {
		name = config.DefaultYAMLName
		cfg, err = config.Demo()
	} else {
		cfg, err = config.Load(path)
	}
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), err)
		return nil, &exitError{code: 2, err: fmt.Errorf("%s is not valid", name)}
	}
	set, err := cfg.CalendarSet()
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return set, nil
}

// parseAt reads --at: RFC 3339, or a wall-clock time in the calendar's zone.
func parseAt(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --at %q: want RFC 3339 (2026-12-24T22:59:00Z) or 2026-12-24T17:59 in the calendar's zone", s)
}

func knownCalendars(set calendar.Set) string {
	if len(set) == 0 {
		return "none configured"
	}
	return strings.Join(set.Names(), ", ")
}
