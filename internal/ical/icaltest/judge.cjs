// judge.cjs reads .ics files with ical.js, an independent parser, and
// prints what it understood as JSON, one object per file, for the Go tests
// to compare with what they meant to write. Instants are Unix seconds, so
// the zone arithmetic is ical.js's own, from the VTIMEZONE in the file.
const fs = require("fs");
const ICAL = require("ical.js");

const out = [];
for (const file of process.argv.slice(2)) {
  const cal = new ICAL.Component(ICAL.parse(fs.readFileSync(file, "utf8")));
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  }
  const params = (p) => {
    const o = {};
    for (const [k, v] of Object.entries(p.toJSON()[1])) o[k] = v;
    return o;
  };
  const events = cal.getAllSubcomponents("vevent").map((ve) => {
    const ev = new ICAL.Event(ve);
    const start = ve.getFirstPropertyValue("dtstart");
    return {
      uid: ev.uid,
      sequence: ev.sequence,
      summary: ev.summary,
      description: ev.description,
      location: ev.location,
      status: ve.getFirstPropertyValue("status"),
      start: ev.startDate.toUnixTime(),
      end: ev.endDate.toUnixTime(),
      startZone: start.zone ? start.zone.tzid : "",
      stamp: ve.getFirstPropertyValue("dtstamp").toUnixTime(),
      organizer: ve.getAllProperties("organizer").map((p) => ({ value: p.getFirstValue(), params: params(p) })),
      attendees: ve.getAllProperties("attendee").map((p) => ({ value: p.getFirstValue(), params: params(p) })),
      properties: ve.getAllProperties().map((p) => p.name),
    };
  });
  out.push({
    method: cal.getFirstPropertyValue("method"),
    properties: cal.getAllProperties().map((p) => p.name),
    components: cal.getAllSubcomponents().map((c) => c.name),
    events,
  });
}
process.stdout.write(JSON.stringify(out));
