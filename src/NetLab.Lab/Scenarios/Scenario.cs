using System.Collections.Immutable;
using NetLab.Core.Addressing;
using NetLab.Core.Time;

namespace NetLab.Lab.Scenarios;

// The scenario model: what a scenario file says, checked for shape, values and cross-references, but not yet
// built. Every spec keeps the location and field path it came from, so that later stages (the stack parsing
// routes, the sysctl tree checking keys, the tools parsing commands) report errors in the parser's format
// through Scenario.ErrorAt. Collections keep file order, so that building a world from a scenario is deterministic.

/// <summary>A parsed scenario file. Build one with <see cref="ScenarioParser"/>.</summary>
/// <param name="File">The file name errors are reported against.</param>
/// <param name="Name">The <c>name</c> field, or the file name without its extension.</param>
/// <param name="Seed">The seed every random stream of the run derives from (default 1).</param>
/// <param name="Duration">How long the run lasts in virtual time (default 60 s).</param>
/// <param name="Hosts">The <c>hosts</c>, then the <c>routers</c> (with <see cref="HostSpec.Forward"/> defaulting to true).</param>
/// <param name="Timeline">Commands in file order; <see cref="TimelineByTime"/> sorts them.</param>
public sealed record Scenario(
    string File,
    string Name,
    string? Description,
    ulong Seed,
    SimDuration Duration,
    ImmutableArray<HostSpec> Hosts,
    ImmutableArray<SwitchSpec> Switches,
    ImmutableArray<LinkSpec> Links,
    ImmutableArray<TimelineEntry> Timeline,
    ImmutableArray<CaptureSpec> Captures)
{
    public static readonly SimDuration DefaultDuration = SimDuration.FromSeconds(60);
    public const ulong DefaultSeed = 1;

    /// <summary>
    /// The timeline sorted by <see cref="TimelineEntry.At"/>; entries at the same instant keep file order,
    /// so they run in the order they were written.
    /// </summary>
    public ImmutableArray<TimelineEntry> TimelineByTime => [.. Timeline.OrderBy(e => e.At)];

    /// <summary>An error in the parser's format, for stages that validate what the parser keeps as text.</summary>
    public static ScenarioError ErrorAt(SourceLocation at, string path, string message) => new(at, path, message);
}

/// <summary>A host (a network namespace). Routers are hosts with <see cref="Forward"/> set.</summary>
/// <param name="Forward">Sets <c>net.ipv4.ip_forward</c>; false for <c>hosts</c>, true by default for <c>routers</c>.</param>
/// <param name="Path">"hosts.a" or "routers.r1", for error messages.</param>
public sealed record HostSpec(
    string Name,
    bool Forward,
    ImmutableArray<InterfaceSpec> Interfaces,
    ImmutableArray<RouteSpec> Routes,
    ImmutableArray<SysctlSpec> Sysctls,
    SourceLocation Location,
    string Path);

/// <summary>A network device on a host. One that no link names is created but stays without a carrier.</summary>
/// <param name="Addresses">Addresses with their prefix length, in file order (<c>ip addr add</c> order).</param>
/// <param name="Mac">Null lets the builder pick one.</param>
/// <param name="Mtu">Null takes the link's MTU.</param>
public sealed record InterfaceSpec(
    string Name,
    ImmutableArray<Ipv4Prefix> Addresses,
    MacAddress? Mac,
    int? Mtu,
    SourceLocation Location,
    string Path)
{
    /// <summary>
    /// Probe each address for conflicts (RFC 5227: three ARP probes) before configuring it, and
    /// announce it with gratuitous ARP, as NetworkManager or systemd-networkd do; the kernel does neither.
    /// </summary>
    public bool Dad { get; init; }
}

/// <summary>
/// An <c>ip route add</c> argument list, kept as text: the stack parses it, and reports its errors with
/// <see cref="Scenario.ErrorAt"/>(<see cref="Location"/>, <see cref="Path"/>, ...).
/// </summary>
/// <param name="Path">"hosts.a.routes[0]".</param>
public sealed record RouteSpec(string Text, SourceLocation Location, string Path);

/// <summary>
/// A sysctl setting, kept as text: the host's sysctl tree checks the key and parses the value.
/// <see cref="Location"/> is the key's, <see cref="ValueLocation"/> the value's.
/// </summary>
/// <param name="Key">The dotted name, "net.ipv4.icmp_echo_ignore_all".</param>
/// <param name="Value">The scalar as written ("0" for <c>0</c>).</param>
/// <param name="Path">"hosts.b.sysctl.net.ipv4.icmp_echo_ignore_all".</param>
public sealed record SysctlSpec(string Key, string Value, SourceLocation Location, SourceLocation ValueLocation, string Path);

/// <summary>A learning switch.</summary>
/// <param name="Ageing">How long a learned MAC address is kept (Linux bridge <c>ageing_time</c>, default 300 s).</param>
/// <param name="Mtu">Null: the switch does not limit frame size beyond what its links do.</param>
public sealed record SwitchSpec(string Name, SimDuration Ageing, int? Mtu, SourceLocation Location, string Path)
{
    public static readonly SimDuration DefaultAgeing = SimDuration.FromSeconds(300);
}

/// <summary>A point-to-point link, with netem-like properties applied in each direction.</summary>
/// <param name="RateBitsPerSecond">Serialisation rate (default 1 Gbit/s).</param>
/// <param name="Loss">Loss probability, 0 to 1 (the file's "0.5%" is 0.005).</param>
/// <param name="Path">"links[2]".</param>
public sealed record LinkSpec(
    Endpoint A,
    Endpoint B,
    long RateBitsPerSecond,
    SimDuration Delay,
    SimDuration Jitter,
    double Loss,
    int Mtu,
    SourceLocation Location,
    string Path)
{
    /// <summary>Probability that a frame is held back by up to <see cref="ReorderDelay"/>, so later frames overtake it.</summary>
    public double Reorder { get; init; }
    public SimDuration ReorderDelay { get; init; } = SimDuration.FromMilliseconds(1);
    /// <summary>Probability that a frame is delivered twice (netem duplicate).</summary>
    public double Duplicate { get; init; }
    /// <summary>Probability that one bit of a frame is flipped (netem corrupt).</summary>
    public double Corrupt { get; init; }

    public const long DefaultRateBitsPerSecond = 1_000_000_000;
    public const int DefaultMtu = 1500;
}

/// <summary>One end of a link: a host's interface or a switch (which grows a port for it).</summary>
public abstract record Endpoint;

/// <summary>"a:eth0".</summary>
public sealed record HostInterfaceEndpoint(string Host, string Interface) : Endpoint
{
    public override string ToString() => $"{Host}:{Interface}";
}

/// <summary>"sw1".</summary>
public sealed record SwitchEndpoint(string Switch) : Endpoint
{
    public override string ToString() => Switch;
}

/// <summary>A command run on a host at an instant of virtual time.</summary>
/// <param name="Command">The command line, as typed at a shell ("ping -c 3 10.0.2.2").</param>
/// <param name="Location">Where the entry starts.</param>
/// <param name="CommandLocation">Where the <c>run</c> value starts, for errors in the command line.</param>
/// <param name="Path">"timeline[0]".</param>
public sealed record TimelineEntry(
    SimDuration At,
    string Host,
    string Command,
    SourceLocation Location,
    SourceLocation CommandLocation,
    string Path);

/// <summary>A host interface to write a pcap of.</summary>
/// <param name="Path">"capture[1]".</param>
public sealed record CaptureSpec(string Host, string Interface, SourceLocation Location, string Path);
