using NetLab.Core.Time;
using NetLab.Lab.Scenarios;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Link;
using NetLab.Tools;
using NetLab.Tools.Acd;

namespace NetLab.Lab.Running;

/// <summary>
/// Turns a parsed <see cref="Scenario"/> into a <see cref="World"/>: switches, hosts with their
/// interfaces (brought up, as a distribution's ifup would), addresses, sysctls and routes, then the
/// links. What the parser kept as text (sysctl keys and values, routes) is checked here, and its
/// errors point at the scenario file's line and field.
/// </summary>
public sealed class ScenarioBuilder
{
    private readonly Scenario _scenario;
    private readonly List<ScenarioError> _errors = [];
    private readonly List<StartupTask> _startup = [];

    private ScenarioBuilder(Scenario scenario) => _scenario = scenario;

    /// <summary>Work a host does when the scenario starts, with its output going to the transcript (address conflict detection).</summary>
    public sealed record StartupTask(string Host, Func<IToolOutput, Task> Run);

    public static (World? World, IReadOnlyList<ScenarioError> Errors, IReadOnlyList<StartupTask> Startup) Build(
        Scenario scenario, ulong? seedOverride = null)
    {
        var b = new ScenarioBuilder(scenario);
        var world = b.BuildWorld(seedOverride ?? scenario.Seed);
        return b._errors.Count == 0 ? (world, b._errors, b._startup) : (null, b._errors, []);
    }

    private World BuildWorld(ulong seed)
    {
        var world = new World(seed);
        foreach (var s in _scenario.Switches)
        {
            var sw = world.AddSwitch(s.Name);
            sw.Ageing = s.Ageing;
            if (s.Mtu is { } mtu) sw.DefaultMtu = mtu;
        }
        foreach (var h in _scenario.Hosts)
        {
            var host = world.AddHost(h.Name);
            if (h.Forward) host.Sysctl.Set("net.ipv4.ip_forward", "1");
            foreach (var i in h.Interfaces)
            {
                var dev = host.AddEthernet(i.Name, i.Mac);
                dev.SetUp(true);
            }
        }
        foreach (var l in _scenario.Links)
        {
            var p = new LinkParameters
            {
                RateBitsPerSecond = l.RateBitsPerSecond,
                Delay = l.Delay,
                Jitter = l.Jitter,
                Loss = l.Loss,
                Reorder = l.Reorder,
                ReorderDelay = l.ReorderDelay,
                Duplicate = l.Duplicate,
                Corrupt = l.Corrupt,
                Mtu = l.Mtu,
            };
            world.Connect(End(world, l.A, l.Mtu), End(world, l.B, l.Mtu), p);
        }
        // Addresses, MTU overrides, sysctls and routes after the cables, so an interface MTU given on the
        // host wins over its link's, and routes find their connected networks.
        foreach (var h in _scenario.Hosts)
        {
            var host = world.Hosts[h.Name];
            foreach (var i in h.Interfaces)
            {
                var dev = host.FindDevice(i.Name)!;
                if (i.Mtu is { } mtu) dev.Mtu = mtu;
                if (i.Dad) continue; // configured once probing finds no conflict (StartDad)
                foreach (var a in i.Addresses)
                {
                    try { host.Ipv4.AddAddress(dev, a); }
                    catch (ArgumentException e) { _errors.Add(Scenario.ErrorAt(i.Location, $"{i.Path}.address", $"{a}: {e.Message}")); }
                }
            }
            foreach (var s in h.Sysctls)
            {
                switch (host.Sysctl.TrySet(s.Key, s.Value))
                {
                    case Core.Sysctl.SysctlResult.UnknownKey:
                        _errors.Add(Scenario.ErrorAt(s.Location, s.Path, $"unknown sysctl '{s.Key}' (see `sysctl -a` on a host)"));
                        break;
                    case Core.Sysctl.SysctlResult.InvalidArgument:
                        _errors.Add(Scenario.ErrorAt(s.ValueLocation, s.Path, $"invalid value '{s.Value}' for {s.Key}"));
                        break;
                }
            }
            if (h.Interfaces.Any(i => i.Dad)) StartDad(world, host, h);
            else foreach (var r in h.Routes) AddRoute(world, host, r);
        }
        return world;
    }

    /// <summary>
    /// As ifup with NetworkManager or systemd-networkd: each address is probed (RFC 5227) and configured
    /// only if nobody uses it; the host's routes follow once every probe is done.
    /// </summary>
    private void StartDad(World world, Host host, HostSpec h)
    {
        _startup.Add(new StartupTask(h.Name, async output =>
        {
            var probes = new List<Task<AcdResult>>();
            foreach (var i in h.Interfaces)
            {
                var dev = host.FindDevice(i.Name)!;
                foreach (var a in i.Addresses)
                {
                    var address = a;
                    if (!i.Dad) continue;
                    probes.Add(AddressConflictDetection.ProbeAndAnnounceAsync(host, dev, address.Address,
                        () => host.Ipv4.AddAddress(dev, address)));
                }
            }
            foreach (var r in await Task.WhenAll(probes))
            {
                output.WriteLine(r.Conflict
                    ? $"acd: {r.Address} is in use by {r.ConflictingMac}: address not configured (RFC 5227 conflict)"
                    : $"acd: {r.Address}: {AddressConflictDetection.ProbeNum} probes unanswered, address configured and announced");
            }
            foreach (var r in h.Routes)
            {
                var status = await ToolRunner.RunAsync(host, "ip route add " + r.Text, output, CancellationToken.None);
                if (status != 0) output.WriteError($"{r.Path}: route not added");
            }
        }));
    }

    private static IWireEnd End(World world, Endpoint e, int mtu) => e switch
    {
        HostInterfaceEndpoint hi => (EthernetDevice)world.Hosts[hi.Host].FindDevice(hi.Interface)!,
        SwitchEndpoint s => world.Switches[s.Switch].AddPort(mtu),
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    /// <summary>A route is exactly the arguments of `ip route add`: the ip tool parses and applies it.</summary>
    private void AddRoute(World world, Host host, RouteSpec r)
    {
        var output = new CapturingOutput(world.Scheduler);
        var task = ToolRunner.RunAsync(host, "ip route add " + r.Text, output, CancellationToken.None);
        int status = world.Scheduler.Run(task, world.Now);
        if (status != 0)
        {
            var why = output.Errors.LastOrDefault() ?? $"ip route add {r.Text}: exit {status}";
            _errors.Add(Scenario.ErrorAt(r.Location, r.Path, why));
        }
    }
}
