using NetLab.Core.Time;
using NetLab.Lab.Scenarios;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Link;
using NetLab.Tools;

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

    private ScenarioBuilder(Scenario scenario) => _scenario = scenario;

    public static (World? World, IReadOnlyList<ScenarioError> Errors) Build(Scenario scenario, ulong? seedOverride = null)
    {
        var b = new ScenarioBuilder(scenario);
        var world = b.BuildWorld(seedOverride ?? scenario.Seed);
        return b._errors.Count == 0 ? (world, b._errors) : (null, b._errors);
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
            foreach (var r in h.Routes) AddRoute(world, host, r);
        }
        return world;
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
            var why = output.Lines.LastOrDefault(l => l.IsError)?.Text ?? $"ip route add {r.Text}: exit {status}";
            _errors.Add(Scenario.ErrorAt(r.Location, r.Path, why));
        }
    }
}
