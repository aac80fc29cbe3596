using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Pcap;
using NetLab.Core.Randomness;
using NetLab.Core.Sysctl;
using NetLab.Core.Time;
using NetLab.Real.Tap;
using NetLab.Real.Time;
using NetLab.Stack;
using NetLab.Stack.Link;
using NetLab.Tools;
using NetLab.Tools.Servers;

namespace NetLab.Cli.Attach;

/// <summary>What `netlab attach` was asked to do.</summary>
public sealed record AttachOptions(string Tap, string Address, string? Gateway, int? Mtu, string? Pcap, bool Dhcp,
    IReadOnlyList<string> Sysctls, IReadOnlyList<string> Serve, IReadOnlyList<string> Exec, bool Create);

/// <summary>
/// <c>netlab attach</c>: one NetLab host in real time on a Linux TAP device. The host's eth0 is wired to the
/// TAP; it serves the --serve specs and runs the --exec commands, until SIGINT or SIGTERM (or, with --exec
/// and no --serve, until the last command ends), then prints its counters. See docs/real-networks.md.
/// </summary>
public static class AttachCommand
{
    /// <summary>How long tools get to finish after SIGINT/SIGTERM (ping prints its statistics, servers close).</summary>
    private static readonly SimDuration StopGrace = SimDuration.FromMilliseconds(200);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var tap = new Option<string>("--tap") { Description = "The TAP device to attach to (IFF_TAP).", Required = true };
        var addr = new Option<string>("--addr") { Description = "The host's address on eth0, as ADDRESS/PREFIXLEN.", Required = true };
        var gateway = new Option<string?>("--gateway") { Description = "The default route's next hop." };
        var mtu = new Option<int?>("--mtu") { Description = "eth0's MTU (default: the TAP device's MTU)." };
        var pcap = new Option<string?>("--pcap") { Description = "Write every frame of eth0 to this pcap file." };
        var dhcp = new Option<bool>("--dhcp") { Description = "Configure eth0 by DHCP (issue #6)." };
        var sysctl = new Option<string[]>("--sysctl") { Description = "Set a sysctl on the host: KEY=VALUE (repeatable)." };
        var serve = new Option<string[]>("--serve") { Description = $"Run a service (repeatable). {ServeSpec.Usage}." };
        var exec = new Option<string[]>("--exec") { Description = "Run a command on the host and print its output (repeatable)." };
        var create = new Option<bool>("--create") { Description = "Create the TAP device if it does not exist (and bring it up)." };
        var cmd = new Command("attach", "Run one NetLab host in real time on a Linux TAP device.")
        {
            tap, addr, gateway, mtu, pcap, dhcp, sysctl, serve, exec, create,
        };
        cmd.SetAction(p => Run(new AttachOptions(p.GetValue(tap)!, p.GetValue(addr)!, p.GetValue(gateway), p.GetValue(mtu),
            p.GetValue(pcap), p.GetValue(dhcp), p.GetValue(sysctl) ?? [], p.GetValue(serve) ?? [], p.GetValue(exec) ?? [],
            p.GetValue(create)), stdout, stderr));
        return cmd;
    }

    public static int Run(AttachOptions o, TextWriter stdout, TextWriter stderr)
    {
        int Usage(string message)
        {
            stderr.WriteLine($"netlab attach: {message}");
            return Program.InvalidInput;
        }
        if (o.Dhcp) return Usage("--dhcp: the DHCP client is not built yet (issue #6, DNS and DHCP)");
        if (!Ipv4Prefix.TryParse(o.Address, out var prefix, out var error)) return Usage($"--addr {o.Address}: {error}");
        Ipv4Address? gateway = null;
        if (o.Gateway is not null)
        {
            if (!Ipv4Address.TryParse(o.Gateway, out var gw)) return Usage($"--gateway {o.Gateway}: not an IPv4 address");
            gateway = gw;
        }
        if (o.Mtu is < 68 or > 65535) return Usage($"--mtu {o.Mtu}: out of range 68-65535");
        foreach (var s in o.Serve)
            if (!ServeSpec.TryParse(s, out _, out error)) return Usage($"--serve {error}");

        // Real time is not reproducible anyway: a fresh seed per run gives fresh MACs and ISNs, as a boot does.
        ulong seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        var scheduler = new Scheduler();
        var host = new Host("netlab", scheduler, new RandomStreams(seed), new PacketPool());
        foreach (var kv in o.Sysctls)
        {
            int eq = kv.IndexOf('=');
            var result = eq <= 0 ? SysctlResult.InvalidArgument : host.Sysctl.TrySet(kv[..eq].Trim(), kv[(eq + 1)..].Trim());
            if (result == SysctlResult.UnknownKey)
                return Usage($"--sysctl {kv}: cannot stat /proc/sys/{SysctlTree.Normalize(kv[..eq].Trim()).Replace('.', '/')}: No such file or directory");
            if (result != SysctlResult.Ok) return Usage($"--sysctl {kv}: Invalid argument (KEY=VALUE)");
        }

        PcapWriter? pcapWriter = null;
        TapFile opened;
        try
        {
            if (o.Pcap is not null) pcapWriter = PcapWriter.Create(o.Pcap);
            opened = TapFile.Open(o.Tap, o.Create);
        }
        catch (Exception e) when (e is TapException or IOException or UnauthorizedAccessException)
        {
            pcapWriter?.Dispose();
            stderr.WriteLine($"netlab attach: {(e is TapException ? "" : $"--pcap {o.Pcap}: ")}{e.Message}");
            return 1;
        }
        using var tapFile = opened;
        using var loop = new RealTimeLoop(scheduler);
        int mtu = o.Mtu ?? tapFile.KernelMtu;
        var dev = host.AddEthernet("eth0", mtu: mtu);
        var wire = new TapWire(tapFile, loop, dev, mtu);
        WallClockPcapTap? pcap = null;
        if (pcapWriter is not null)
        {
            pcap = new WallClockPcapTap(pcapWriter, loop);
            dev.AddTap(pcap);
        }
        dev.SetUp(true);
        host.Ipv4.AddAddress(dev, prefix);
        if (gateway is { } g)
        {
            try
            {
                host.Ipv4.AddRoute(new Ipv4Prefix(Ipv4Address.Any, 0), g, null);
            }
            catch (ArgumentException e)
            {
                wire.Dispose();
                pcap?.Dispose();
                return Usage($"--gateway {g}: {e.Message}");
            }
        }
        stdout.WriteLine($"netlab: {o.Tap} attached as eth0 {prefix} (link/ether {dev.Mac}, mtu {mtu}; {o.Tap} mtu {tapFile.KernelMtu})"
            + (gateway is null ? "" : $", default via {gateway}") + "; SIGINT or SIGTERM stops");

        var session = new Session(host, loop, o.Serve, o.Exec, stdout, stderr);
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, session.OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, session.OnSignal))
        {
            loop.Post(session.Start, null);
            wire.Start();
            loop.Run();
        }
        PrintCounters(host, dev, wire, loop, stdout);
        wire.Dispose();
        pcap?.Dispose();
        return session.ExitStatus;
    }

    /// <summary>The host's programs: the serve process, the --exec commands one after another, and stopping.</summary>
    private sealed class Session(Host host, RealTimeLoop loop, IReadOnlyList<string> serve, IReadOnlyList<string> exec, TextWriter stdout, TextWriter stderr)
    {
        private readonly CancellationTokenSource _interrupt = new();
        private readonly List<Task> _programs = [];
        private bool _stopping;

        public int ExitStatus { get; private set; }

        /// <summary>On the loop: start the programs.</summary>
        public void Start(object? _)
        {
            if (serve.Count > 0)
            {
                var log = new LogOutput(host.Scheduler, stdout, stderr);
                var ctx = new ToolContext(host, log, _interrupt.Token);
                _programs.Add(Watch(new ServeTool().RunAsync(ctx, serve)));
            }
            if (exec.Count > 0) _programs.Add(RunExec());
        }

        /// <summary>A serve process that ends by itself failed (a port in use): stop with its status.</summary>
        private async Task Watch(Task<int> serve)
        {
            int status = await serve;
            if (!_stopping)
            {
                ExitStatus = status;
                Stop(null);
            }
        }

        private async Task RunExec()
        {
            var output = new PlainOutput(stdout, stderr);
            foreach (var command in exec)
            {
                if (_interrupt.IsCancellationRequested) break;
                stdout.WriteLine($"$ {command}");
                ExitStatus = await ToolRunner.RunAsync(host, command, output, _interrupt.Token);
            }
            if (serve.Count == 0 && !_stopping) Stop(null);
        }

        /// <summary>SIGINT/SIGTERM, on the runtime's signal thread: stop on the loop, and do not let the runtime exit.</summary>
        public void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            loop.Post(Stop, null);
        }

        /// <summary>On the loop: interrupt the programs, give them <see cref="StopGrace"/> to finish, then end the loop.</summary>
        private void Stop(object? _)
        {
            if (_stopping) return;
            _stopping = true;
            _interrupt.Cancel();
            host.Scheduler.After(StopGrace, loop.Stop);
            Task.WhenAll(_programs).ContinueWith(_ => loop.Stop(), TaskScheduler.FromCurrentSynchronizationContext());
        }
    }

    /// <summary>netstat -s, ip -s link show eth0, and the attachment's own figures.</summary>
    private static void PrintCounters(Host host, EthernetDevice dev, TapWire wire, RealTimeLoop loop, TextWriter stdout)
    {
        var output = new PlainOutput(stdout, stdout);
        foreach (var command in new[] { "netstat -s", "ip -s link show eth0" })
        {
            stdout.WriteLine($"$ {command}");
            host.Scheduler.Run(ToolRunner.RunAsync(host, command, output, CancellationToken.None));
        }
        double perBatch = wire.RxBatches == 0 ? 0 : (double)wire.RxFrames / wire.RxBatches;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tap: {wire.RxFrames} frames read in {wire.RxBatches} batches ({perBatch:0.0} per batch), {dev.Stats.TxPackets} written; read errors {wire.ReadErrors}, write errors {wire.WriteErrors}; {loop.InboxItems} items through the loop's inbox"));
        stdout.WriteLine(loop.Jitter.ToString());
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gc: {GC.GetTotalAllocatedBytes() / 1e6:0.0} MB allocated by the process, {GC.CollectionCount(0)} gen0 / {GC.CollectionCount(2)} gen2 collections"));
    }

    /// <summary>Server log lines, stamped with the seconds since the attachment started: "[   12.345678] ...".</summary>
    private sealed class LogOutput(Scheduler clock, TextWriter stdout, TextWriter stderr) : IToolOutput
    {
        public void WriteLine(string line) => stdout.WriteLine($"[{clock.Now.TotalSeconds,12:0.000000}] {line}");
        public void WriteError(string line) => stderr.WriteLine($"[{clock.Now.TotalSeconds,12:0.000000}] {line}");
    }

    /// <summary>Command output as the Linux tool prints it.</summary>
    private sealed class PlainOutput(TextWriter stdout, TextWriter stderr) : IToolOutput
    {
        public void WriteLine(string line) => stdout.WriteLine(line);
        public void WriteError(string line) => stderr.WriteLine(line);
    }
}
