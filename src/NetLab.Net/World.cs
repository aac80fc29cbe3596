using NetLab.Core.Packets;
using NetLab.Core.Pcap;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack;
using NetLab.Stack.Link;

namespace NetLab.Net;

/// <summary>
/// A virtual network: hosts, switches and links on one scheduler, with one seed for all randomness.
/// Same seed, same events, byte-identical pcaps.
/// </summary>
public sealed class World : IDisposable
{
    private readonly Dictionary<string, Host> _hosts = [];
    private readonly Dictionary<string, Switch> _switches = [];
    private readonly List<Link> _links = [];
    private readonly List<PcapTap> _taps = [];

    public World(ulong seed = 1)
    {
        Random = new RandomStreams(seed);
    }

    public Scheduler Scheduler { get; } = new();
    public RandomStreams Random { get; }
    public PacketPool Pool { get; } = new();
    public SimTime Now => Scheduler.Now;
    public IReadOnlyDictionary<string, Host> Hosts => _hosts;
    public IReadOnlyDictionary<string, Switch> Switches => _switches;
    public IReadOnlyList<Link> Links => _links;

    public Host AddHost(string name)
    {
        if (_hosts.ContainsKey(name) || _switches.ContainsKey(name)) throw new ArgumentException($"name '{name}' is already used");
        var h = new Host(name, Scheduler, Random, Pool);
        _hosts[name] = h;
        return h;
    }

    public Switch AddSwitch(string name)
    {
        if (_hosts.ContainsKey(name) || _switches.ContainsKey(name)) throw new ArgumentException($"name '{name}' is already used");
        var s = new Switch(name, Scheduler);
        _switches[name] = s;
        return s;
    }

    /// <summary>Cables two wire ends. Host NICs take the link's MTU, as `ip link set mtu` on both ends would.</summary>
    public Link Connect(IWireEnd a, IWireEnd b, LinkParameters? parameters = null)
    {
        var p = parameters ?? new LinkParameters();
        string name = $"{Describe(a)}<->{Describe(b)}";
        var ab = new Channel(Scheduler, a, b, p, Random.Stream($"link/{name}/ab"));
        var ba = new Channel(Scheduler, b, a, p, Random.Stream($"link/{name}/ba"));
        a.AttachWire(ab, p.Mtu);
        b.AttachWire(ba, p.Mtu);
        var link = new Link(name, a, b, ab, ba);
        _links.Add(link);
        return link;
    }

    private static string Describe(IWireEnd e) => e switch
    {
        EthernetDevice d => $"{d.Host.Name}:{d.Name}",
        SwitchPort p => p.Name,
        _ => e.ToString() ?? "?",
    };

    /// <summary>Writes every frame of <paramref name="device"/> to a pcap file (both directions).</summary>
    public PcapTap Capture(NetDevice device, string path)
    {
        var tap = new PcapTap(PcapWriter.Create(path));
        device.AddTap(tap);
        _taps.Add(tap);
        return tap;
    }

    public PcapTap Capture(NetDevice device, Stream stream)
    {
        var tap = new PcapTap(new PcapWriter(stream));
        device.AddTap(tap);
        _taps.Add(tap);
        return tap;
    }

    public void RunUntil(SimTime end) => Scheduler.RunUntil(end);
    public void RunFor(SimDuration d) => Scheduler.RunFor(d);

    public void Dispose()
    {
        foreach (var t in _taps) t.Dispose();
        _taps.Clear();
    }
}
