package atlas

import "time"

// Policy arithmetic. All times are UTC, which has no daylight-saving
// gaps, so consecutive candidate slots are exactly one hour apart and a
// slot is found by stepping an hour at a time and testing it: at most a
// leap year's 8,784 steps for a yearly item, and obviously correct at
// month ends and leap days where closed-form arithmetic is easy to get
// wrong.

// maxSlotSteps bounds the search: every valid item has a slot within
// one leap year.
const maxSlotSteps = 366*24 + 1

// Satisfies reports whether t is one of the item's snapshot times, given
// the schedule's reference hour and minute (UTC).
func (it PolicyItem) Satisfies(t time.Time, refHour, refMinute int) bool {
	t = t.UTC()
	if t.Second() != 0 || t.Nanosecond() != 0 || t.Minute() != refMinute {
		return false
	}
	n := it.FrequencyInterval
	if it.FrequencyType == Hourly {
		return n > 0 && ((t.Hour()-refHour)%n+n)%n == 0
	}
	if t.Hour() != refHour {
		return false
	}
	switch it.FrequencyType {
	case Daily:
		return true
	case Weekly:
		return isoWeekday(t) == n
	case Monthly:
		if n == LastDayOfMonthInterval {
			return t.Day() == DaysInMonth(t.Year(), t.Month())
		}
		return t.Day() == n
	case Yearly:
		return t.Day() == 1 && int(t.Month()) == n
	}
	return false
}

// Next is the item's first snapshot time strictly after t; the zero time
// when the item has none (an invalid item).
func (it PolicyItem) Next(t time.Time, refHour, refMinute int) time.Time {
	t = t.UTC()
	c := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), refMinute, 0, 0, time.UTC)
	if !c.After(t) {
		c = c.Add(time.Hour)
	}
	for range maxSlotSteps {
		if it.Satisfies(c, refHour, refMinute) {
			return c
		}
		c = c.Add(time.Hour)
	}
	return time.Time{}
}

// Prev is the item's latest snapshot time at or before t; the zero time
// when the item has none.
func (it PolicyItem) Prev(t time.Time, refHour, refMinute int) time.Time {
	t = t.UTC()
	c := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), refMinute, 0, 0, time.UTC)
	if c.After(t) {
		c = c.Add(-time.Hour)
	}
	for range maxSlotSteps {
		if it.Satisfies(c, refHour, refMinute) {
			return c
		}
		c = c.Add(-time.Hour)
	}
	return time.Time{}
}

// Retain is when a snapshot taken at t by this item expires. Days and
// weeks are exact multiples of 24 hours; months and years are calendar
// steps that keep the day of the month, clamped to the target month's
// last day (31 January + 1 month = 28 or 29 February; 29 February + 1
// year = 28 February).
func (it PolicyItem) Retain(t time.Time) time.Time {
	return RetentionEnd(t, it.RetentionUnit, it.RetentionValue)
}

// RetentionEnd adds value units of retention to t (see PolicyItem.Retain).
func RetentionEnd(t time.Time, unit RetentionUnit, value int) time.Time {
	t = t.UTC()
	switch unit {
	case RetainDays:
		return t.AddDate(0, 0, value)
	case RetainWeeks:
		return t.AddDate(0, 0, 7*value)
	case RetainMonths:
		return addMonthsClamped(t, value)
	case RetainYears:
		return addMonthsClamped(t, 12*value)
	}
	return t
}

// RetentionDays approximates an item's retention in days (months as 30,
// years as 365), the measure Atlas's "a less frequent item keeps its
// snapshots at least as long" rule compares.
func RetentionDays(unit RetentionUnit, value int) int {
	switch unit {
	case RetainDays:
		return value
	case RetainWeeks:
		return 7 * value
	case RetainMonths:
		return 30 * value
	case RetainYears:
		return 365 * value
	}
	return 0
}

func addMonthsClamped(t time.Time, months int) time.Time {
	y, m := t.Year(), int(t.Month())-1+months
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	month := time.Month(m + 1)
	d := min(t.Day(), DaysInMonth(y, month))
	return time.Date(y, month, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// DaysInMonth is the number of days of a month (leap years included).
func DaysInMonth(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// isoWeekday numbers Monday 1 … Sunday 7, as weekly frequencyInterval does.
func isoWeekday(t time.Time) int {
	if d := int(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

// NextSnapshot is the schedule's next snapshot time after t over all its
// items; the zero time when it has none.
func (s *Schedule) NextSnapshot(t time.Time) time.Time {
	var next time.Time
	for _, it := range s.Items {
		n := it.Next(t, s.ReferenceHourOfDay, s.ReferenceMinuteOfHour)
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// ItemsAt lists the items t is a snapshot time of, in schedule order.
func (s *Schedule) ItemsAt(t time.Time) []PolicyItem {
	var out []PolicyItem
	for _, it := range s.Items {
		if it.Satisfies(t, s.ReferenceHourOfDay, s.ReferenceMinuteOfHour) {
			out = append(out, it)
		}
	}
	return out
}

// Due is what one scheduling pass at now owes since the slot last served
// (exclusive): the latest slot time among items with a slot in (last,
// now], every item with such a slot (one snapshot serves them all, so a
// long outage yields one catch-up snapshot, not one per missed slot, and
// a monthly slot missed in it is still served), and how many distinct
// slot times beyond the one served were missed. A zero slot means
// nothing is due.
func (s *Schedule) Due(last, now time.Time) (slot time.Time, items []PolicyItem, missed int) {
	for _, it := range s.Items {
		p := it.Prev(now, s.ReferenceHourOfDay, s.ReferenceMinuteOfHour)
		if p.IsZero() || !p.After(last) {
			continue
		}
		items = append(items, it)
		if p.After(slot) {
			slot = p
		}
	}
	if slot.IsZero() {
		return time.Time{}, nil, 0
	}
	const maxCounted = 100000
	for t := s.NextSnapshot(last); !t.IsZero() && t.Before(slot) && missed < maxCounted; t = s.NextSnapshot(t) {
		missed++
	}
	return slot, items, missed
}

// SnapshotLabel is the frequencyType a snapshot serving items is recorded with:
// the longest of their frequencies, as Atlas labels a snapshot that is
// both a daily and a monthly one "monthly".
func SnapshotLabel(items []PolicyItem) Frequency {
	var f Frequency
	for _, it := range items {
		if it.FrequencyType.Rank() > f.Rank() {
			f = it.FrequencyType
		}
	}
	return f
}

// LongestRetention is when a snapshot taken at t serving items expires:
// the latest of the items' retentions.
func LongestRetention(t time.Time, items []PolicyItem) time.Time {
	var end time.Time
	for _, it := range items {
		if e := it.Retain(t); e.After(end) {
			end = e
		}
	}
	return end
}

// AutoExports reports whether a scheduled snapshot labelled label is
// exported by an export policy of frequency exportFreq: only when they
// are equal, so a snapshot that is both weekly and monthly (labelled
// monthly) is exported by a monthly export policy and not by a weekly one
// (behaviour notes §3).
func AutoExports(label, exportFreq Frequency) bool {
	return label != "" && label == exportFreq
}
