using NetLab.Core.Addressing;

namespace NetLab.Drill.Running;

/// <summary>
/// packetdrill's configuration (config.c defaults): IPv4, local 192.168.0.1, remote 192.0.2.1 behind gateway
/// 192.168.0.2, bind and connect port 8080, MTU 1500, a tolerance of 4 ms on every timing check.
/// </summary>
internal sealed record DrillOptions
{
    public Ipv4Address LocalIp { get; init; } = Ipv4Address.Parse("192.168.0.1");
    public Ipv4Address RemoteIp { get; init; } = Ipv4Address.Parse("192.0.2.1");
    public Ipv4Address GatewayIp { get; init; } = Ipv4Address.Parse("192.168.0.2");
    public ushort BindPort { get; init; } = 8080;
    public ushort ConnectPort { get; init; } = 8080;
    public int Mtu { get; init; } = 1500;
    public long ToleranceUs { get; init; } = 4000;
    /// <summary>--tcp_ts_tick_usecs: when set, outbound TS val are checked as a clock of this tick.</summary>
    public long? TsTickUs { get; init; }
    /// <summary>
    /// --strict_segments: one live packet per script packet. Without it (packetdrill's default), consecutive outbound
    /// segments are aggregated until they carry the payload the script packet expects (run_packet.c,
    /// do_outbound_script_packet), so a script written for one TSO burst matches the bursts a kernel sizes differently.
    /// </summary>
    public bool StrictSegments { get; init; }
    /// <summary>Writes each event and packet as it runs (--verbose).</summary>
    public TextWriter? Log { get; init; }
}
