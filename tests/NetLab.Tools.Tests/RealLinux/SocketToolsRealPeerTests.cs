using System.Diagnostics;
using System.Text.RegularExpressions;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;

namespace NetLab.Tools.Tests.RealLinux;

/// <summary>
/// ss, netstat and nc against Linux with the same sockets open: on b a listener on 5001 (backlog 5)
/// with one connection from a waiting in its accept queue, and a UDP socket bound to 5353. Linux's
/// sockets are held by python3 processes in the namespaces; NetLab's are opened through the API.
/// Ephemeral ports, and in the -i line the values, legitimately differ and are normalised; columns,
/// headings, widths and wording must match. Needs root (fails with the way out otherwise, as the other
/// real-peer tests do).
/// </summary>
public partial class SocketToolsRealPeerTests
{
    private const string ServerPy =
        "import socket,time\n" +
        "l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); l.bind(('0.0.0.0',5001)); l.listen(5)\n" +
        "u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('0.0.0.0',5353))\n" +
        "print('ready',flush=True); time.sleep(60)\n";

    private const string ClientPy =
        "import socket,time\n" +
        "c=socket.create_connection(('10.77.2.2',5001))\n" +
        "print('ready',flush=True); time.sleep(60)\n";

    private static readonly Step[] Steps =
    [
        new("b", "ss -lnt"),
        new("b", "ss -uan"),
        new("b", "ss -tn"),
        new("a", "ss -tn"),
        new("a", "ss -tan state established"),
        new("a", "ss -tno"),
        new("a", "ss -tin"),
        new("a", "ss -s"),
        new("b", "netstat -tln"),
        new("b", "netstat -uan"),
        new("a", "netstat -tn"),
        new("b", "ss -lt state listening"),
        new("a", "nc -zv 10.77.2.2 5001"),
        new("a", "nc -zv 10.77.2.2 5002"),
        new("a", "nc -zvn 10.77.2.2 5000-5002"),
        new("a", "nc"),
    ];

    [Fact]
    public void SsNetstatNc_ListenerWithAQueuedConnection()
    {
        var linux = new List<CommandResult>();
        var netlab = new List<CommandResult>();
        using (var ns = LinuxNetns.CreateRouted(TimeSpan.Zero))
        {
            foreach (var s in RealPeer.Setup) ns.Exec(s.Node, s.Command).ThrowIfFailed($"Linux setup {s}");
            using var server = ns.StartPython("b", ServerPy);
            using var client = ns.StartPython("a", ClientPy);
            LinuxNetns.Run("sleep", "0.3"); // the handshake's last ACK reaches b (real time: Linux runs in it)
            foreach (var s in Steps) linux.Add(ns.Exec(s.Node, s.Command));
            server.Kill();
            client.Kill();
        }

        var (w, hosts) = RealPeer.NetLabRouted(TimeSpan.Zero);
        using (w)
        {
            foreach (var s in RealPeer.Setup) Run(w, hosts[s.Node], s.Command).ThrowIfFailed($"NetLab setup {s}");
            var b = hosts["b"];
            var l = b.Tcp.Open();
            l.ReuseAddress = true;
            Assert.Equal(Errno.None, l.Bind(Ipv4Address.Any, 5001));
            Assert.Equal(Errno.None, l.Listen(5));
            var u = b.Udp.Open();
            Assert.Equal(Errno.None, u.Bind(Ipv4Address.Any, 5353));
            var c = hosts["a"].Tcp.Open();
            Assert.Equal(Errno.EINPROGRESS, c.Connect(Ipv4Address.Parse("10.77.2.2"), 5001));
            w.RunFor(SimDuration.FromMilliseconds(300));
            foreach (var s in Steps)
            {
                netlab.Add(Run(w, hosts[s.Node], s.Command));
                w.RunFor(RealPeer.CommandGap);
            }
            c.Close();
            l.Close();
            u.Dispose();
            w.RunFor(SimDuration.FromSeconds(70));
        }

        var differences = new List<string>();
        for (int i = 0; i < Steps.Length; i++)
        {
            var (x, y) = (linux[i], netlab[i]);
            TestContext.Current.TestOutputHelper?.WriteLine($"$ {Steps[i]}\n--- Linux\n{x.Stdout}{x.Stderr}--- NetLab\n{y.Stdout}{y.Stderr}");
            bool info = Steps[i].Command.Contains("-tin", StringComparison.Ordinal);
            bool summary = Steps[i].Command == "ss -s";
            var lx = Norm(x.StdoutLines, info, summary);
            var ly = Norm(y.StdoutLines, info, summary);
            if (!lx.SequenceEqual(ly)) differences.Add($"stdout of `{Steps[i]}`\n--- Linux\n{string.Join('\n', lx)}\n--- NetLab\n{string.Join('\n', ly)}");
            if (!Norm(x.StderrLines, false, false).SequenceEqual(Norm(y.StderrLines, false, false)))
                differences.Add($"stderr of `{Steps[i]}`\n--- Linux\n{x.Stderr}--- NetLab\n{y.Stderr}");
            if (x.ExitCode != y.ExitCode) differences.Add($"exit status of `{Steps[i]}`: Linux {x.ExitCode}, NetLab {y.ExitCode}");
        }
        if (differences.Count > 0) Assert.Fail(string.Join("\n\n", differences));
    }

    /// <summary>
    /// Ephemeral ports (5 digits in both port ranges) become PORT; the -i line keeps only its tab and
    /// the padding of the Process heading goes (both depend on the values); ss -s keeps its layout.
    /// </summary>
    private static List<string> Norm(IReadOnlyList<string> lines, bool info, bool summary)
    {
        var r = new List<string>();
        foreach (var line in lines)
        {
            var s = Ephemeral().Replace(line, "PORT");
            if (info)
            {
                if (s.StartsWith('\t')) s = "\t<info>";
                else s = s.TrimEnd();
            }
            if (summary) s = Regex.Replace(s, @"\d+", "N");
            r.Add(s);
        }
        return r;
    }

    [GeneratedRegex(@"(?<=:)(3[2-9]|[4-5]\d|60)\d{3}\b")]
    private static partial Regex Ephemeral();

    private static CommandResult Run(World w, Host h, string commandLine)
    {
        var output = new CapturingOutput(w.Scheduler);
        int status = w.Scheduler.Run(ToolRunner.RunAsync(h, commandLine, output, CancellationToken.None));
        return new CommandResult(status, string.Concat(output.Lines.Select(l => l + "\n")), string.Concat(output.Errors.Select(l => l + "\n")));
    }
}
