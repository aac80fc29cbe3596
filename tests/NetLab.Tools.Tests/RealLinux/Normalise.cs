using System.Text.RegularExpressions;

namespace NetLab.Tools.Tests.RealLinux;

/// <summary>
/// Rewrites the parts of a tool's output that legitimately differ between a Linux run and a NetLab
/// run of the same experiment, so that everything else can be compared line by line. Each rule says
/// why the difference is not a NetLab bug. Everything not matched here must be identical.
/// </summary>
internal static partial class Normalise
{
    public static IReadOnlyList<string> Lines(IEnumerable<string> lines) => lines.Select(Line).ToList();

    public static string Line(string line)
    {
        // Measured times: wall-clock on Linux, virtual on NetLab. The digits go, the layout stays
        // (tracepath's "%3lld.%03ldms" keeps its width for times under a second on both).
        line = PingTime().Replace(line, "time=<t> ms");             // ping reply "time=0.080 ms", "time=1.23 ms"
        line = PingElapsed().Replace(line, "time <t>ms");           // ping summary "time 406ms" (Linux adds scheduling latency)
        line = PingRtt().Replace(line, "rtt min/avg/max/mdev = <t> ms");
        line = TracepathTime().Replace(line, "<t>ms ");             // tracepath "0.077ms "
        line = TracerouteTime().Replace(line, "  <t> ms");          // traceroute "  0.044 ms"
        line = ArpingTime().Replace(line, "<t>ms");                 // arping "[MAC]  0.549ms"
        // A learned PMTU's remaining life counts down in wall time: "expires 599sec" a moment after
        // the frag needed, 598 if Linux was slow to start the next command. (IpTests checks NetLab's
        // countdown exactly; here only that the line has it.)
        line = RouteExpires().Replace(line, "expires <t>sec");
        // veth MACs are random per run, NetLab's are derived from the seed; broadcast and zero stay.
        line = Mac().Replace(line, "<mac>");
        // Linux's devices are veth pairs: ip prints the peer's ifindex ("eth0@if2") and, for a peer in
        // another namespace, "link-netns NAME". NetLab's devices are plain Ethernet NICs with neither.
        line = VethPeer().Replace(line, "$1:");
        line = LinkNetns().Replace(line, "");
        // veth's root qdisc is noqueue (it has no queue of its own); NetLab models a physical NIC,
        // whose default root qdisc is pfifo_fast. Loopback (noqueue on both) and down devices (noop)
        // are not rewritten.
        line = EthQdisc().Replace(line, "$1qdisc <q> ");
        return line;
    }

    [GeneratedRegex(@"time=\d+(\.\d+)? ms")]
    private static partial Regex PingTime();

    [GeneratedRegex(@"(?<=packet loss), time \d+ms$")]
    private static partial Regex PingElapsed();

    [GeneratedRegex(@"^rtt min/avg/max/mdev = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms$")]
    private static partial Regex PingRtt();

    [GeneratedRegex(@"(?<= )\d+\.\d{3}ms ")]
    private static partial Regex TracepathTime();

    [GeneratedRegex(@"  \d+\.\d{3} ms")]
    private static partial Regex TracerouteTime();

    [GeneratedRegex(@"(?<= cache.* )expires \d+sec")]
    private static partial Regex RouteExpires();

    [GeneratedRegex(@"(?<=\]  )\d+\.\d{3}ms$")]
    private static partial Regex ArpingTime();

    [GeneratedRegex(@"\b(?!ff:ff:ff:ff:ff:ff\b)(?!00:00:00:00:00:00\b)[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\b")]
    private static partial Regex Mac();

    [GeneratedRegex(@"^(\d+: [^:@ ]+)@if\d+:")]
    private static partial Regex VethPeer();

    [GeneratedRegex(@" link-netns \S+")]
    private static partial Regex LinkNetns();

    [GeneratedRegex(@"^(\d+: (?!lo:)\S+ <[^>]*\bUP\b[^>]*> mtu \d+ )qdisc (noqueue|pfifo_fast) ")]
    private static partial Regex EthQdisc();
}
