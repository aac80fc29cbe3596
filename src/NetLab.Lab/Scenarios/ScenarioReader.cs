using System.Collections.Immutable;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using YamlDotNet.RepresentationModel;
using static NetLab.Lab.Scenarios.ScenarioValues;

namespace NetLab.Lab.Scenarios;

/// <summary>Reads a scenario's YAML tree into the model, collecting every error it finds. One instance per file.</summary>
internal sealed partial class ScenarioReader
{
    private static readonly string[] ScenarioFields = ["name", "description", "seed", "duration", "hosts", "routers", "switches", "links", "timeline", "capture"];
    private static readonly string[] HostFields = ["interfaces", "routes", "forward", "sysctl"];
    private static readonly string[] InterfaceFields = ["address", "mac", "mtu", "dad"];
    private static readonly string[] SwitchFields = ["ageing", "mtu"];
    private static readonly string[] LinkFields = ["endpoints", "rate", "delay", "jitter", "loss", "mtu", "reorder", "reorder_delay", "duplicate", "corrupt"];
    private static readonly string[] TimelineFields = ["at", "on", "run"];

    // Hosts, routers and switches share one namespace: a link endpoint "x" must mean one thing.
    private readonly Dictionary<string, string> _namePaths = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HostSpec> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SwitchSpec> _switches = new(StringComparer.Ordinal);

    /// <summary>The scenario, or null when <see cref="Errors"/> is not empty.</summary>
    public Scenario? Read(YamlNode root, string defaultName)
    {
        var top = Fields(root, "", "scenario", ScenarioFields);
        if (top is null) return null;

        string name = Optional(top, "name", "", TryParseText, defaultName);
        string? description = Optional<string?>(top, "description", "", TryParseScalar, null);
        ulong seed = Optional(top, "seed", "", TryParseSeed, Scenario.DefaultSeed);
        int errorsBefore = _errors.Count;
        var duration = Optional(top, "duration", "", TryParseDuration, Scenario.DefaultDuration);
        if (duration == SimDuration.Zero) Error(top["duration"], "duration", "must be longer than 0s");
        SimDuration? end = _errors.Count == errorsBefore ? duration : null;   // no timeline errors that echo a bad duration

        // Names first: links, the timeline and captures refer to them wherever they sit in the file.
        var hosts = ImmutableArray.CreateBuilder<HostSpec>();
        if (top.TryGetValue("hosts", out var node)) hosts.AddRange(ReadHosts(node, "hosts", forwardDefault: false));
        if (top.TryGetValue("routers", out node)) hosts.AddRange(ReadHosts(node, "routers", forwardDefault: true));
        var switches = top.TryGetValue("switches", out node) ? ReadSwitches(node) : [];
        var links = top.TryGetValue("links", out node) ? ReadLinks(node) : [];
        var timeline = top.TryGetValue("timeline", out node) ? ReadTimeline(node, end) : [];
        var captures = top.TryGetValue("capture", out node) ? ReadCaptures(node) : [];

        if (_errors.Count > 0) return null;
        return new Scenario(_file, name, description, seed, duration, hosts.ToImmutable(), switches, links, timeline, captures);
    }

    /// <summary>False after reporting when another host, router or switch already has <paramref name="name"/>.</summary>
    private bool Claim(string name, YamlNode key, string path)
    {
        if (_namePaths.TryGetValue(name, out var other))
        {
            Error(key, path, $"name '{name}' is already used by {other}");
            return false;
        }
        _namePaths.Add(name, path);
        return true;
    }

    private List<HostSpec> ReadHosts(YamlNode node, string section, bool forwardDefault)
    {
        var hosts = new List<HostSpec>();
        foreach (var (name, key, body) in Entries(node, section, section))
        {
            string path = $"{section}.{name}";
            CheckName(key, path, TryParseNodeName);
            var host = ReadHost(name, body, path, forwardDefault, At(key));
            if (!Claim(name, key, path)) continue;
            _hosts.Add(name, host);
            hosts.Add(host);
        }
        return hosts;
    }

    private HostSpec ReadHost(string name, YamlNode body, string path, bool forwardDefault, SourceLocation at)
    {
        var f = Fields(body, path, "host", HostFields) ?? [];
        bool forward = Optional(f, "forward", path, TryParseBool, forwardDefault);
        var interfaces = f.TryGetValue("interfaces", out var node) ? ReadInterfaces(node, Join(path, "interfaces")) : [];
        var routes = f.TryGetValue("routes", out node) ? ReadRoutes(node, Join(path, "routes")) : [];
        var sysctls = f.TryGetValue("sysctl", out node) ? ReadSysctls(node, Join(path, "sysctl")) : [];
        return new HostSpec(name, forward, interfaces, routes, sysctls, at, path);
    }

    private ImmutableArray<InterfaceSpec> ReadInterfaces(YamlNode node, string section)
    {
        var interfaces = ImmutableArray.CreateBuilder<InterfaceSpec>();
        foreach (var (name, key, body) in Entries(node, section, "interfaces"))
        {
            string path = $"{section}.{name}";
            CheckName(key, path, TryParseInterfaceName);
            var f = Fields(body, path, "interface", InterfaceFields) ?? [];
            var addresses = f.TryGetValue("address", out var addressNode) ? ReadAddresses(addressNode, Join(path, "address")) : [];
            MacAddress? mac = f.TryGetValue("mac", out var macNode) ? Value<MacAddress>(macNode, Join(path, "mac"), TryParseMac, default) : null;
            int? mtu = f.TryGetValue("mtu", out var mtuNode) ? Value<int>(mtuNode, Join(path, "mtu"), TryParseMtu, LinkSpec.DefaultMtu) : null;
            bool dad = Optional(f, "dad", path, TryParseBool, false);
            interfaces.Add(new InterfaceSpec(name, addresses, mac, mtu, At(key), path) { Dad = dad });
        }
        return interfaces.ToImmutable();
    }

    /// <summary>One CIDR string or a list of them.</summary>
    private ImmutableArray<Ipv4Prefix> ReadAddresses(YamlNode node, string path)
    {
        if (node is not YamlSequenceNode list) return [Value<Ipv4Prefix>(node, path, TryParsePrefix, default)];
        return [.. list.Children.Select((item, i) => Value<Ipv4Prefix>(item, $"{path}[{i}]", TryParsePrefix, default))];
    }

    private ImmutableArray<RouteSpec> ReadRoutes(YamlNode node, string section) =>
        [.. (Items(node, section, "routes") ?? []).Select((item, i) =>
        {
            string path = $"{section}[{i}]";
            return new RouteSpec(Value(item, path, TryParseText, ""), At(item), path);
        })];

    private ImmutableArray<SysctlSpec> ReadSysctls(YamlNode node, string section)
    {
        var sysctls = ImmutableArray.CreateBuilder<SysctlSpec>();
        foreach (var (key, keyNode, value) in Entries(node, section, "sysctl settings"))
        {
            string path = $"{section}.{key}";
            CheckName(keyNode, path, TryParseSysctlKey);
            sysctls.Add(new SysctlSpec(key, Value(value, path, TryParseScalar, ""), At(keyNode), At(value), path));
        }
        return sysctls.ToImmutable();
    }

    private ImmutableArray<SwitchSpec> ReadSwitches(YamlNode node)
    {
        var switches = ImmutableArray.CreateBuilder<SwitchSpec>();
        foreach (var (name, key, body) in Entries(node, "switches", "switches"))
        {
            string path = $"switches.{name}";
            CheckName(key, path, TryParseNodeName);
            var f = Fields(body, path, "switch", SwitchFields) ?? [];
            var ageing = Optional(f, "ageing", path, TryParseDuration, SwitchSpec.DefaultAgeing);
            int? mtu = f.TryGetValue("mtu", out var mtuNode) ? Value<int>(mtuNode, Join(path, "mtu"), TryParseMtu, LinkSpec.DefaultMtu) : null;
            var sw = new SwitchSpec(name, ageing, mtu, At(key), path);
            if (!Claim(name, key, path)) continue;
            _switches.Add(name, sw);
            switches.Add(sw);
        }
        return switches.ToImmutable();
    }

    private ImmutableArray<LinkSpec> ReadLinks(YamlNode node)
    {
        var links = ImmutableArray.CreateBuilder<LinkSpec>();
        var connectedBy = new Dictionary<HostInterfaceEndpoint, string>();   // a device has one cable
        var items = Items(node, "links", "links") ?? [];
        for (int i = 0; i < items.Count; i++)
        {
            string path = $"links[{i}]";
            var f = Fields(items[i], path, "link", LinkFields);
            if (f is null) continue;
            long rate = Optional(f, "rate", path, TryParseRate, LinkSpec.DefaultRateBitsPerSecond);
            var delay = Optional(f, "delay", path, TryParseDuration, SimDuration.Zero);
            var jitter = Optional(f, "jitter", path, TryParseDuration, SimDuration.Zero);
            double loss = Optional(f, "loss", path, TryParseLoss, 0.0);
            int mtu = Optional(f, "mtu", path, TryParseMtu, LinkSpec.DefaultMtu);
            double reorder = Optional(f, "reorder", path, TryParseLoss, 0.0);
            var reorderDelay = Optional(f, "reorder_delay", path, TryParseDuration, SimDuration.FromMilliseconds(1));
            double duplicate = Optional(f, "duplicate", path, TryParseLoss, 0.0);
            double corrupt = Optional(f, "corrupt", path, TryParseLoss, 0.0);

            if (Required(f, "endpoints", items[i], path) is not { } endpointsNode) continue;
            string endpointsPath = Join(path, "endpoints");
            if (Items(endpointsNode, endpointsPath, "endpoints") is not { } ends) continue;
            if (ends.Count != 2)
            {
                Error(endpointsNode, endpointsPath, $"expected exactly two endpoints, got {ends.Count}");
                continue;
            }
            var a = ReadEndpoint(ends[0], $"{endpointsPath}[0]");
            var b = ReadEndpoint(ends[1], $"{endpointsPath}[1]");
            if (a is null || b is null) continue;
            if (a == b)
            {
                Error(endpointsNode, endpointsPath, $"both endpoints are {a}");
                continue;
            }
            for (int end = 0; end < 2; end++)
            {
                if ((end == 0 ? a : b) is not HostInterfaceEndpoint device) continue;
                if (connectedBy.TryGetValue(device, out var other)) Error(ends[end], $"{endpointsPath}[{end}]", $"{device} is already connected by {other}");
                else connectedBy.Add(device, path);
            }
            links.Add(new LinkSpec(a, b, rate, delay, jitter, loss, mtu, At(items[i]), path)
            {
                Reorder = reorder, ReorderDelay = reorderDelay, Duplicate = duplicate, Corrupt = corrupt,
            });
        }
        return links.ToImmutable();
    }

    /// <summary>"host:iface" or "switch".</summary>
    private Endpoint? ReadEndpoint(YamlNode node, string path)
    {
        string text = Value(node, path, TryParseText, "");
        if (text.Length == 0) return null;
        int colon = text.IndexOf(':');
        if (colon >= 0) return ResolveInterface(node, path, text[..colon], text[(colon + 1)..]);
        if (_switches.ContainsKey(text)) return new SwitchEndpoint(text);
        Error(node, path, _hosts.ContainsKey(text)
            ? $"'{text}' is a host; name one of its interfaces, as {text}:eth0"
            : $"unknown switch '{text}' (a host interface is written host:iface)");
        return null;
    }

    private HostInterfaceEndpoint? ResolveInterface(YamlNode node, string path, string host, string iface)
    {
        if (!_hosts.TryGetValue(host, out var spec))
        {
            Error(node, path, _switches.ContainsKey(host) ? $"'{host}' is a switch; switch ports have no names" : $"unknown host '{host}'");
            return null;
        }
        if (spec.Interfaces.Any(i => i.Name == iface)) return new HostInterfaceEndpoint(host, iface);
        string declared = spec.Interfaces.IsEmpty ? "it declares none" : $"it declares {string.Join(", ", spec.Interfaces.Select(i => i.Name))}";
        Error(node, path, $"host '{host}' has no interface '{iface}'; {declared}");
        return null;
    }

    private ImmutableArray<TimelineEntry> ReadTimeline(YamlNode node, SimDuration? end)
    {
        var timeline = ImmutableArray.CreateBuilder<TimelineEntry>();
        var items = Items(node, "timeline", "timeline entries") ?? [];
        for (int i = 0; i < items.Count; i++)
        {
            string path = $"timeline[{i}]";
            var f = Fields(items[i], path, "timeline entry", TimelineFields);
            if (f is null) continue;
            var atNode = Required(f, "at", items[i], path);
            var onNode = Required(f, "on", items[i], path);
            var runNode = Required(f, "run", items[i], path);
            if (atNode is null || onNode is null || runNode is null) continue;

            var at = Value(atNode, Join(path, "at"), TryParseDuration, SimDuration.Zero);
            if (at > end) Error(atNode, Join(path, "at"), $"{at} is after the end of the run (duration {end})");
            string host = Value(onNode, Join(path, "on"), TryParseText, "");
            if (host.Length > 0 && !_hosts.ContainsKey(host))
            {
                Error(onNode, Join(path, "on"), _switches.ContainsKey(host) ? $"'{host}' is a switch; commands run on hosts" : $"unknown host '{host}'");
            }
            string command = Value(runNode, Join(path, "run"), TryParseText, "");
            timeline.Add(new TimelineEntry(at, host, command, At(items[i]), At(runNode), path));
        }
        return timeline.ToImmutable();
    }

    private ImmutableArray<CaptureSpec> ReadCaptures(YamlNode node)
    {
        var captures = ImmutableArray.CreateBuilder<CaptureSpec>();
        var capturedBy = new Dictionary<HostInterfaceEndpoint, string>();   // two writers would clobber one pcap
        var items = Items(node, "capture", "host interfaces") ?? [];
        for (int i = 0; i < items.Count; i++)
        {
            string path = $"capture[{i}]";
            string text = Value(items[i], path, TryParseText, "");
            if (text.Length == 0) continue;
            int colon = text.IndexOf(':');
            if (colon < 0)
            {
                Error(items[i], path, $"'{text}' is not a host interface; expected host:iface");
                continue;
            }
            if (ResolveInterface(items[i], path, text[..colon], text[(colon + 1)..]) is not { } device) continue;
            if (capturedBy.TryGetValue(device, out var other))
            {
                Error(items[i], path, $"{device} is already captured by {other}");
                continue;
            }
            capturedBy.Add(device, path);
            captures.Add(new CaptureSpec(device.Host, device.Interface, At(items[i]), path));
        }
        return captures.ToImmutable();
    }
}
