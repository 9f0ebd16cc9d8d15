package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/storage"
)

// leadsOptions are the flags every `leads` command shares.
type leadsOptions struct {
	config string // configuration file: its database.dsn
	db     string // database file, over the configuration's
}

// newLeadsCmd is `switchboard leads`: outbound campaigns, their leads and
// the do-not-call list, kept in the database. Campaigns are created with
// `leads campaign create` and stored in the database for now (they may move
// to the configuration file later).
func newLeadsCmd() *cobra.Command {
	o := &leadsOptions{}
	cmd := &cobra.Command{
		Use:   "leads",
		Short: "Outbound campaigns: import leads, manage the do-not-call list, explain why a lead is (not) dialed",
		Long: `Outbound campaigns and their leads, kept in the database.

A campaign is created with "leads campaign create NAME" (its settings are
stored in the database), leads are added with "leads import", numbers are
kept off every campaign with "leads dnc add" and "leads dnc import", and
"leads why" explains whether a number is being dialed now and why not.

The database is --db, or database.dsn of --config, or switchboard.db.`,
	}
	cmd.PersistentFlags().StringVarP(&o.config, "config", "c", "", "configuration file whose database.dsn is used")
	cmd.PersistentFlags().StringVar(&o.db, "db", "", "database file (over the configuration's)")
	cmd.AddCommand(newLeadsImportCmd(o), newLeadsWhyCmd(o), newLeadsDNCCmd(o), newLeadsCampaignCmd(o))
	return cmd
}

// open opens the database the flags name.
func (o *leadsOptions) open(cmd *cobra.Command) (*storage.DB, error) {
	dsn := o.db
	if dsn == "" {
		if o.config != "" {
			cfg, err := config.Load(o.config)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return nil, &exitError{code: 2, err: fmt.Errorf("%s is not valid", o.config)}
			}
			dsn = cfg.Database.DSN
		} else {
			dsn = config.Default().Database.DSN
		}
	}
	db, err := storage.Open(cmd.Context(), dsn)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// userError turns domain errors caused by the input into exit code 2.
func userError(err error) error {
	switch sb.ErrorCode(err) {
	case sb.EINVALID, sb.ENOTFOUND, sb.ECONFLICT:
		return &exitError{code: 2, err: errors.New(sb.ErrorMessage(err))}
	}
	return err
}

// importBatch is how many leads are written per transaction: an import cut
// short keeps what it wrote, and running it again merges.
const importBatch = 500

// progressEvery is how often (rows) an import reports progress when stderr
// is not a terminal.
const progressEvery = 10000

func newLeadsImportCmd(o *leadsOptions) *cobra.Command {
	var opt campaign.ImportOptions
	var rejectsPath string
	var show int
	cmd := &cobra.Command{
		Use:   "import --campaign NAME FILE.csv",
		Short: "Import leads from a CSV file: E.164 numbers, zones, duplicates merged, bad rows reported by line",
		Long: `Import leads into a campaign from a CSV file with a header row.

The phone column is phone, number or phone_number (any case; --number-column
names another). Numbers are normalised to E.164, those without a country
code read in --region. The lead's time zone (for the calling window) comes
from a timezone, time_zone or tz column, or else from the number's prefix
(the first zone libphonenumber lists when a prefix spans several). Every
other column is kept as lead data for the agent.

A number already in the campaign, or earlier in the file, is merged: its data
gets the new non-empty values, its state and attempts are kept. A row that
cannot be imported (invalid number, wrong column count, bad time zone, bad
CSV) is reported with its line (the header is line 1) and reason: the first
--show of them are printed, all of them written by --rejects FILE.`,
		Example: `  switchboard leads import --campaign spring leads.csv --region US --rejects rejected.csv`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.Campaign == "" {
				return &exitError{code: 2, err: errors.New("--campaign is required")}
			}
			f, err := os.Open(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer f.Close()
			var size int64
			if st, err := f.Stat(); err == nil {
				size = st.Size()
			}
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.Campaign(cmd.Context(), opt.Campaign); err != nil {
				return userError(err)
			}
			var rejects *csv.Writer
			if rejectsPath != "" {
				rf, err := os.Create(rejectsPath)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer rf.Close()
				rejects = csv.NewWriter(rf)
			}
			sum, err := importLeads(cmd.Context(), db, f, size, opt, rejects, cmd.ErrOrStderr(), show)
			if rejects != nil {
				rejects.Flush()
				if ferr := rejects.Error(); ferr != nil && err == nil {
					err = fmt.Errorf("rejects file: %w", ferr)
				}
			}
			sum.print(cmd.OutOrStdout(), opt.Campaign, rejectsPath)
			if err != nil {
				return userError(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opt.Campaign, "campaign", "", "campaign to import into (required)")
	cmd.Flags().StringVar(&opt.Region, "region", "US", "region (ISO 3166) of numbers written without a country code; empty: only +international numbers")
	cmd.Flags().StringVar(&opt.NumberColumn, "number-column", "", "phone number column (default: phone, number or phone_number)")
	cmd.Flags().StringVar(&opt.TimeZoneColumn, "timezone-column", "", "time zone column (default: timezone, time_zone or tz, if present)")
	cmd.Flags().StringVar(&rejectsPath, "rejects", "", "write every rejected row (line, reason, fields) to this CSV file")
	cmd.Flags().IntVar(&show, "show", 10, "how many rejected rows to print")
	return cmd
}

// importSummary counts an import's rows.
type importSummary struct {
	Read, Imported, Merged, Rejected int
	First                            []campaign.Row // the first rejected rows
	HeaderError                      error
}

func (s importSummary) print(w io.Writer, name, rejectsPath string) {
	if s.HeaderError != nil {
		return
	}
	fmt.Fprintf(w, "campaign %s: %d rows read, %d imported, %d merged, %d rejected\n", name, s.Read, s.Imported, s.Merged, s.Rejected)
	if s.Rejected == 0 {
		return
	}
	fmt.Fprintln(w, "rejected:")
	for _, r := range s.First {
		fmt.Fprintf(w, "  line %d: %s\n", r.Line, r.Reason)
	}
	switch more := s.Rejected - len(s.First); {
	case rejectsPath != "":
		fmt.Fprintf(w, "all %d rejected rows are in %s\n", s.Rejected, rejectsPath)
	case more > 0:
		fmt.Fprintf(w, "  ... and %d more (--rejects FILE writes them all)\n", more)
	}
}

// importLeads reads a lead file into the database in batches, writing
// progress to progress and every rejected row to rejects (if not nil).
func importLeads(ctx context.Context, db *storage.DB, r io.Reader, size int64, opt campaign.ImportOptions,
	rejects *csv.Writer, progress io.Writer, show int) (importSummary, error) {
	var sum importSummary
	counter := &countingReader{r: r}
	rd, err := campaign.NewReader(counter, opt)
	if err != nil {
		sum.HeaderError = err
		return sum, &exitError{code: 2, err: fmt.Errorf("import: %w", err)}
	}
	if rejects != nil {
		if err := rejects.Write(append([]string{"line", "reason"}, rd.Header()...)); err != nil {
			return sum, err
		}
	}
	bar := newProgress(progress, size)
	var batch []sb.Lead
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := db.UpsertLeads(ctx, batch, time.Now())
		if err != nil {
			return err
		}
		sum.Imported += n.Imported
		sum.Merged += n.Merged
		batch = batch[:0]
		return nil
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bar.done(sum.Read, counter.n)
			return sum, fmt.Errorf("import: after line %d: %w", sum.Read+1, err)
		}
		sum.Read++
		if row.Reason != "" {
			sum.Rejected++
			if len(sum.First) < show {
				sum.First = append(sum.First, row)
			}
			if rejects != nil {
				if err := rejects.Write(append([]string{strconv.Itoa(row.Line), row.Reason}, row.Record...)); err != nil {
					return sum, fmt.Errorf("rejects file: %w", err)
				}
			}
		} else {
			batch = append(batch, row.Lead)
			if len(batch) >= importBatch {
				if err := flush(); err != nil {
					bar.done(sum.Read, counter.n)
					return sum, err
				}
			}
		}
		bar.update(sum.Read, counter.n)
	}
	err = flush()
	bar.done(sum.Read, counter.n)
	return sum, err
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress reports an import's progress: a bar on a terminal, a line every
// progressEvery rows otherwise (logs, pipes, tests).
type progress struct {
	bar   *progressbar.ProgressBar
	plain io.Writer
	size  int64
}

func newProgress(w io.Writer, size int64) *progress {
	if f, ok := w.(*os.File); ok && size > 0 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return &progress{bar: progressbar.NewOptions64(size,
				progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("importing"),
				progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish()), size: size}
		}
	}
	return &progress{plain: w, size: size}
}

func (p *progress) update(rows int, bytes int64) {
	if p.bar != nil {
		_ = p.bar.Set64(bytes)
		return
	}
	if rows%progressEvery == 0 {
		p.line(rows, bytes)
	}
}

func (p *progress) line(rows int, bytes int64) {
	if p.size > 0 {
		fmt.Fprintf(p.plain, "import: %d rows read (%d%%)\n", rows, min(100, bytes*100/p.size))
	} else {
		fmt.Fprintf(p.plain, "import: %d rows read\n", rows)
	}
}

func (p *progress) done(rows int, bytes int64) {
	if p.bar != nil {
		_ = p.bar.Finish()
		return
	}
	if rows%progressEvery != 0 {
		p.line(rows, bytes)
	}
}

func newLeadsWhyCmd(o *leadsOptions) *cobra.Command {
	var name, region, at string
	cmd := &cobra.Command{
		Use:   "why --campaign NAME NUMBER",
		Short: "Explain why a lead is or is not being dialed now (window, DNC, attempts, retry delay, campaign state)",
		Example: `  switchboard leads why --campaign spring "(212) 555-0123"
  switchboard leads why --campaign spring +12125550123 --at 2026-03-10T07:30:00-04:00`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return &exitError{code: 2, err: errors.New("--campaign is required")}
			}
			now := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--at %q: want RFC 3339 (2026-03-10T07:30:00-04:00)", at)}
				}
				now = t
			}
			number, _, err := campaign.Normalize(args[0], region)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx := cmd.Context()
			c, err := db.Campaign(ctx, name)
			if err != nil {
				return userError(err)
			}
			l, err := db.Lead(ctx, name, number)
			if err != nil {
				return userError(err)
			}
			dnc, onList, err := db.DNC(ctx, number)
			if err != nil {
				return err
			}
			_, why := campaign.Eligible(l, c, onList, now)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s in campaign %s (%s): lead %s, %d of %d attempts, zone %s\n",
				number, name, c.State, l.State, l.Attempts, c.MaxAttempts, l.TimeZone)
			if onList {
				fmt.Fprintf(out, "do-not-call since %s (source %s)\n", dnc.AddedAt.Format(time.RFC3339), dnc.Source)
			}
			fmt.Fprintln(out, why)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "campaign", "", "campaign (required)")
	cmd.Flags().StringVar(&region, "region", "US", "region of a number written without a country code")
	cmd.Flags().StringVar(&at, "at", "", "explain at this instant (RFC 3339) instead of now")
	return cmd
}

func newLeadsDNCCmd(o *leadsOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dnc",
		Short: "The do-not-call list: numbers on it are never claimed by any campaign",
	}
	var region, source string
	add := &cobra.Command{
		Use:   "add NUMBER",
		Short: "Put a number on the do-not-call list",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			number, _, err := campaign.Normalize(args[0], region)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			added, err := db.AddDNC(cmd.Context(), number, source, time.Now())
			if err != nil {
				return err
			}
			if added {
				fmt.Fprintf(cmd.OutOrStdout(), "%s added to the do-not-call list\n", number)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s was already on the do-not-call list\n", number)
			}
			return nil
		},
	}
	add.Flags().StringVar(&region, "region", "US", "region of a number written without a country code")
	add.Flags().StringVar(&source, "source", "internal", "where the entry comes from")

	var iregion, isource, rejectsPath string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a do-not-call list: one number per line, or CSV with a phone column",
		Long: `Import a do-not-call list (a national registry extract or an internal list):
one number per line, or a CSV file whose first row names a phone, number or
phone_number column. Lines that are not valid numbers are reported with
their line number and never dropped silently; --rejects FILE writes them all.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer f.Close()
			if isource == "" {
				isource = filepath.Base(args[0])
			}
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			var rejects *csv.Writer
			if rejectsPath != "" {
				rf, err := os.Create(rejectsPath)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer rf.Close()
				rejects = csv.NewWriter(rf)
				_ = rejects.Write([]string{"line", "reason", "number"})
			}
			out := cmd.OutOrStdout()
			var read, added, rejected int
			var batch []string
			flush := func() error {
				n, err := db.ImportDNC(cmd.Context(), batch, isource, time.Now())
				added += n
				batch = batch[:0]
				return err
			}
			err = campaign.ReadDNC(f, iregion, func(e campaign.DNCEntry) error {
				read++
				if e.Reason != "" {
					rejected++
					if rejected <= 10 {
						fmt.Fprintf(out, "line %d: %s\n", e.Line, e.Reason)
					}
					if rejects != nil {
						return rejects.Write([]string{strconv.Itoa(e.Line), e.Reason, e.Raw})
					}
					return nil
				}
				batch = append(batch, e.Number)
				if len(batch) >= importBatch {
					return flush()
				}
				return nil
			})
			if err == nil {
				err = flush()
			}
			if rejects != nil {
				rejects.Flush()
				if ferr := rejects.Error(); ferr != nil && err == nil {
					err = ferr
				}
			}
			fmt.Fprintf(out, "do-not-call list %s: %d numbers read, %d added, %d already listed, %d rejected\n",
				isource, read, added, read-rejected-added, rejected)
			return err
		},
	}
	imp.Flags().StringVar(&iregion, "region", "US", "region of numbers written without a country code")
	imp.Flags().StringVar(&isource, "source", "", "name of the list (default: the file name)")
	imp.Flags().StringVar(&rejectsPath, "rejects", "", "write every rejected line to this CSV file")
	cmd.AddCommand(add, imp)
	return cmd
}

func newLeadsCampaignCmd(o *leadsOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Create, show, start, pause and stop campaigns (settings stored in the database)",
	}
	cmd.AddCommand(newCampaignCreateCmd(o))
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a campaign's settings and lead counts as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			c, err := db.Campaign(cmd.Context(), args[0])
			if err != nil {
				return userError(err)
			}
			counts, err := db.LeadCounts(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Campaign sb.Campaign          `json:"campaign"`
				Leads    map[sb.LeadState]int `json:"leads"`
			}{c, counts})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List campaigns with their mode and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			cs, err := db.Campaigns(cmd.Context())
			if err != nil {
				return err
			}
			for _, c := range cs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\n", c.Name, c.Mode, c.State)
			}
			return nil
		},
	})
	for _, s := range []struct {
		verb  string
		state sb.CampaignState
		short string
	}{
		{"start", sb.CampaignRunning, "Start (or resume) dialing a campaign"},
		{"pause", sb.CampaignPaused, "Pause a campaign: no new calls, calls in flight finish"},
		{"stop", sb.CampaignStopped, "Stop a campaign for good"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   s.verb + " NAME",
			Short: s.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				db, err := o.open(cmd)
				if err != nil {
					return err
				}
				defer db.Close()
				if err := db.SetCampaignState(cmd.Context(), args[0], s.state, time.Now()); err != nil {
					return userError(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "campaign %s is %s\n", args[0], s.state)
				return nil
			},
		})
	}
	return cmd
}

func newCampaignCreateCmd(o *leadsOptions) *cobra.Command {
	d := campaign.Default("")
	var (
		mode, window, days, from, until string
		retries                         map[string]string
		start                           bool
	)
	c := d
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a campaign (paused unless --start) with its settings",
		Example: `  switchboard leads campaign create spring --caller-id +15555550100 --window 09:00-20:00 --days mon-fri
  switchboard leads campaign create blitz --mode power --ratio 2 --caller-id +15555550100 \
      --abandon-message sound:blitz-abandon --retry busy=5m,noanswer=1h`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.Name, c.Mode = args[0], sb.CampaignMode(mode)
			var errs []string
			var err error
			if c.Window, err = campaign.ParseWindow(window); err != nil {
				errs = append(errs, err.Error())
			}
			if c.Schedule.Days, err = campaign.ParseDays(days); err != nil {
				errs = append(errs, err.Error())
			}
			for _, b := range []struct {
				flag, v string
				p       *time.Time
			}{{"from", from, &c.Schedule.From}, {"until", until, &c.Schedule.Until}} {
				if b.v == "" {
					continue
				}
				if *b.p, err = time.Parse(time.RFC3339, b.v); err != nil {
					errs = append(errs, fmt.Sprintf("--%s %q: want RFC 3339", b.flag, b.v))
				}
			}
			c.RetryDelays = map[sb.DialOutcome]time.Duration{}
			for k, v := range d.RetryDelays {
				c.RetryDelays[k] = v
			}
			keys := make([]string, 0, len(retries))
			for k := range retries {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				dur, err := time.ParseDuration(retries[k])
				if err != nil {
					errs = append(errs, fmt.Sprintf("--retry %s=%s: %v", k, retries[k], err))
					continue
				}
				c.RetryDelays[sb.DialOutcome(strings.ToLower(k))] = dur
			}
			if start {
				c.State = sb.CampaignRunning
			}
			if len(errs) > 0 {
				return &exitError{code: 2, err: errors.New(strings.Join(errs, "\n"))}
			}
			db, err := o.open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.CreateCampaign(cmd.Context(), c, time.Now()); err != nil {
				return userError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "campaign %s created (%s, %s)\n", c.Name, c.Mode, c.State)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", string(d.Mode), "preview, progressive, power or predictive")
	f.Float64Var(&c.Ratio, "ratio", d.Ratio, "power mode: calls per ready agent")
	f.Float64Var(&c.MaxRatio, "max-ratio", d.MaxRatio, "most calls per ready agent in any mode")
	f.StringVar(&c.Trunk, "trunk", d.Trunk, "endpoint template; ${number} is the lead's E.164 number")
	f.StringVar(&c.CallerID, "caller-id", "", "caller ID presented (required)")
	f.StringVar(&c.Queue, "queue", "", "queue whose agents work the campaign")
	f.StringVar(&window, "window", d.Window.String(), "calling window in the lead's local time")
	f.StringVar(&days, "days", "mon-sat", "calling days in the lead's local time (mon-fri, sat,sun, daily)")
	f.StringVar(&from, "from", "", "first instant of the campaign (RFC 3339)")
	f.StringVar(&until, "until", "", "end of the campaign (RFC 3339)")
	f.IntVar(&c.MaxAttempts, "max-attempts", d.MaxAttempts, "attempts per lead")
	f.StringToStringVar(&retries, "retry", nil, "retry delays per outcome, over the defaults (busy=10m,noanswer=2h,machine=4h,failed=30m,abandoned=72h)")
	f.Float64Var(&c.AbandonCap, "abandon-cap", d.AbandonCap, "highest abandon rate over --abandon-window")
	f.DurationVar(&c.AbandonWindow, "abandon-window", d.AbandonWindow, "rolling window of the abandon cap")
	f.Float64Var(&c.DailyAbandonCap, "daily-abandon-cap", d.DailyAbandonCap, "highest abandon rate in any day")
	f.StringVar(&c.AbandonMessage, "abandon-message", "", "recording played to an answered call no agent takes (required for power and predictive)")
	f.StringVar(&c.MachineMessage, "machine-message", "", "recording left on an answering machine before hanging up (needs --amd; empty hangs up at once)")
	f.BoolVar(&c.AMD, "amd", d.AMD, "answering-machine detection")
	f.DurationVar(&c.RingTime, "ring-time", d.RingTime, "ring time before no answer (at least 15s)")
	f.BoolVar(&start, "start", false, "create the campaign running instead of paused")
	return cmd
}
