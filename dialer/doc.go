// Package dialer holds the outbound dialer's pure logic: how many lines to
// dial now (pacing), what has been abandoned in which window (the abandon
// ledger) and what the campaign has measured (answer rate, ring, talk and
// wrap-up times). Nothing here starts a goroutine, does I/O or reads a
// clock: the campaign's pacing loop owns one Pacer, one Ledger and one
// Stats, feeds them what happened, and asks Decide with the time.
//
// # Pacers
//
//   - Progressive: one line per ready agent. Never abandons; agents sit
//     through every ring, busy and no-answer.
//   - Power: a fixed number of lines per ready agent (1.5, 2, 3). Blind to
//     agents about to become free and to the abandon rate.
//   - Adaptive: VICIdial's ADAPT_TAPERED as people run it today: a dial
//     level moved every 15 s by the gap between ready agents and waiting
//     calls, capped at 3, halved when drops spike, reset when the day's drop
//     rate passes a limit that tapers to the cap over the shift. It steers
//     the running total, so its worst hour is typically twice the cap.
//   - Predictive: Switchboard's method, below.
//
// # The predictive method
//
// An answered call is abandoned when no agent is free within the connect
// window w (2 s). Take the calls in flight at the decision instant: the
// lines ringing, the answered calls waiting, and n new lines. For a time τ
// ahead, let A(τ) be the number of them answered by a person by τ and F(τ+w)
// the number of agents free by τ+w. Because each call can take any agent
// free by its answer time plus w and agents go to calls in answer order,
// the calls abandoned among them are exactly max over τ of (A(τ) −
// F(τ+w))+ (Hall's theorem for nested neighbourhoods). The pacer dials the
// largest n for which the expected abandons stay within a budget.
//
// Both counts are sums of independent Bernoulli variables whose chances come
// from the campaign's own measurements, not from rules of thumb:
//
//   - a line ringing for e seconds is answered by a person within τ with
//     chance p·(F_L(e+τ) − F_L(e)) / (p·(1−F_L(e)) + (1−p)·(1−F_N(e))),
//     where F_L is the empirical distribution of ring time before a live
//     answer and F_N that of the time other attempts take to resolve (busy,
//     machine, no answer); a new line is the case e = 0;
//   - p is not the observed answer rate but an upper quantile (90%) of its
//     Beta posterior, counting the lines still ringing as answered: more
//     answers than expected is what abandons calls, and a small team has
//     little data;
//   - an agent in wrap-up for u seconds is free by τ+w with the empirical
//     residual wrap-up chance; an agent talking for s seconds with
//     P(T + W ≤ s+τ+w | T > s), the residual talk time from a Kaplan-Meier
//     estimate (the conversations still going on are censored observations:
//     otherwise the first hour sees only the short calls that have ended
//     and dials for agents who are not coming) convolved with wrap-up.
//
// The distribution of D(τ) = A(τ) − F(τ+w) over the calls and agents
// already there is computed exactly by convolution, on a grid of τ every 2
// s up to the ring timeout; many talking agents, each unlikely to be free
// soon, are summed as the binomial with the same mean, which only overstates
// the risk (the binomial is the most spread sum with that mean, and the
// expected excess is convex). Adding n new lines is one more binomial, so
// E[(D(τ) + Bin(n, q(τ)))+] is exact for every n in O(n) from tail sums.
//
// The budget comes from the cap, not from a target ratio. For each window
// the law checks (the clock hour, the day, the rolling 30 days) the pacer
// asks how many more abandons k the window can take and still end this hour
// strictly under the cap (planned at 90% of it, on a low projection of the
// hour's remaining answers, one abandon kept back for a burst), and the
// largest Poisson mean λ with P(X > k) ≤ 1%. λ spread over the answers left
// in the hour is the abandon share the calls in flight may carry; the
// tightest window wins, and near the end of an hour the next hour's budget
// applies too, since those calls will be answered in it. So a team that has
// spent its hour dials progressively until the hour turns, the worst hour is
// controlled rather than the running total, and a team of five, for which
// one abandon is more than 1% of an hour, is automatically near-progressive.
//
// max over τ of E[D(τ)+] understates E[max over τ of D(τ)+], and later
// decisions add lines that compete for the same agents; the gap grows with
// the team. The pacer therefore measures its own error: the abandons that
// happened against those its plan promised for the same answers, a Gamma
// posterior on their ratio (prior: the model is right, worth three abandons),
// and scales its risk by that factor, never below 1.
package dialer
