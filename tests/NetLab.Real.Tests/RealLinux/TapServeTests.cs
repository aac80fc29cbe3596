using System.Globalization;
using System.Text.RegularExpressions;
using NetLab.Tools.Tests.RealLinux;

namespace NetLab.Real.Tests.RealLinux;

/// <summary>One netlab host serving echo, discard, UDP echo and HTTP on tap0, shared by the tests of <see cref="TapServeTests"/>.</summary>
public sealed class ServingNetLab : IDisposable
{
    private TapLab? _lab;
    private NetLabProcess? _netlab;
    private TapFiles? _files;

    internal TapLab Lab => Start()._lab!;
    internal NetLabProcess NetLab => Start()._netlab!;
    internal TapFiles Files => Start()._files!;
    internal string BigFile => Files.PathOf("big");

    private ServingNetLab Start()
    {
        if (_lab is not null) return this;
        TapLab.RequireRoot();
        _files = new TapFiles();
        _files.Random("big", TapFiles.HundredMegabytes);
        _lab = TapLab.Create();
        _netlab = _lab.StartNetLab("--serve", "tcp:7:echo", "--serve", "udp:7:echo", "--serve", "tcp:9:discard",
            "--serve", $"tcp:8080:http:{_files.Dir}");
        return this;
    }

    public void Dispose()
    {
        _lab?.Dispose();   // stops netlab first
        _files?.Dispose();
    }
}

/// <summary>
/// The Linux kernel on tap0's side (10.77.0.1) against a netlab host (10.77.0.2): ping, socat, curl, python3
/// sockets and raw frames. Needs root; skipped otherwise.
/// </summary>
public class TapServeTests(ServingNetLab f) : IClassFixture<ServingNetLab>
{
    [Theory]
    [InlineData("ping -c 3 -i 0.2 10.77.0.2")]
    [InlineData("ping -c 2 -i 0.2 -M do -s 1472 10.77.0.2")]   // 1500 bytes with DF: exactly the MTU
    [InlineData("ping -c 2 -i 0.2 -s 4000 10.77.0.2")]         // three fragments each way: NetLab reassembles and fragments
    public void KernelPingsNetLab(string ping)
    {
        var r = f.Lab.Sh(ping);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains(" 0% packet loss", r.Stdout);
    }

    [Fact]
    public void Socat_EchoesAMegabyteBack_AndTheServerLogsTheConnection()
    {
        var input = f.Files.Random("echo-in", 1_000_000);
        var output = f.Files.PathOf("echo-out");
        var r = f.Lab.Sh($"socat -t 30 - TCP:10.77.0.2:7 < {input} > {output}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(TapFiles.Sha256(input), TapFiles.Sha256(output));
        Assert.True(f.NetLab.WaitForOutput(": 1000000 bytes in, 1000000 bytes out", TimeSpan.FromSeconds(10)), f.NetLab.Stdout);
        Assert.Matches(@"\] tcp:7:echo 10\.77\.0\.1:\d+ accepted", f.NetLab.Stdout);
    }

    /// <summary>curl reuses the connection for its second URL: one accept, two requests, 200 then 404.</summary>
    [Fact]
    public void Curl_KeepAlive_TwoRequestsOnOneConnection_200Then404()
    {
        int acceptedBefore = Regex.Count(f.NetLab.Stdout, @"tcp:8080:http \S+ accepted");
        var r = f.Lab.Sh("curl -s -o /dev/null -w '%{http_code} %{num_connects}\\n' http://10.77.0.2:8080/index.html -o /dev/null http://10.77.0.2:8080/missing");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["200 1", "404 0"], r.StdoutLines);
        Assert.True(f.NetLab.WaitForOutput("\"GET /missing HTTP/1.1\" 404", TimeSpan.FromSeconds(10)), f.NetLab.Stdout);
        Assert.Equal(acceptedBefore + 1, Regex.Count(f.NetLab.Stdout, @"tcp:8080:http \S+ accepted"));
        var head = f.Lab.Sh("curl -sI http://10.77.0.2:8080/");
        Assert.Contains("HTTP/1.1 200 OK", head.Stdout);
        Assert.Contains("Content-Length: 16", head.Stdout);
    }

    [Fact]
    public void Download100MB_FromNetLab_Sha256Matches()
    {
        var output = f.Files.PathOf("download");
        var r = f.Lab.Sh($"curl -s -o {output} -w '%{{speed_download}}' http://10.77.0.2:8080/big");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(TapFiles.Sha256(f.BigFile), TapFiles.Sha256(output));
        File.Delete(output);
        TapFiles.Report($"100 MB NetLab -> kernel (HTTP GET, kernel curl): {TapFiles.MegabytesPerSecond(double.Parse(r.Stdout, CultureInfo.InvariantCulture))}");
    }

    /// <summary>The kernel's curl asks for bytes 1000000-1999999 of the big file and gets exactly those (206).</summary>
    [Fact]
    public void Curl_Range_GetsThatPartOfTheFile()
    {
        var output = f.Files.PathOf("range");
        var r = f.Lab.Sh($"curl -s -r 1000000-1999999 -o {output} -w '%{{http_code}} %{{size_download}}' http://10.77.0.2:8080/big");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("206 1000000", r.Stdout);
        using var big = File.OpenRead(f.BigFile);
        big.Position = 1_000_000;
        var expected = new byte[1_000_000];
        big.ReadExactly(expected);
        Assert.Equal(expected, File.ReadAllBytes(output));
    }

    /// <summary>A SYN to a closed port gets a RST at once: socat reports "Connection refused", not a timeout.</summary>
    [Fact]
    public void ClosedTcpPort_IsRefusedWithRst()
    {
        var r = f.Lab.Sh("socat -T 5 - TCP:10.77.0.2:81,connect-timeout=5 < /dev/null");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Connection refused", r.Stderr);
    }

    /// <summary>UDP echo answers; a datagram to a closed port comes back as ICMP port unreachable (ECONNREFUSED).</summary>
    [Fact]
    public void Udp_EchoAnswers_ClosedPortIsUnreachable()
    {
        const string script = """
            import socket
            for port in (7, 5353):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(5)
                s.connect(("10.77.0.2", port))
                s.send(b"netlab")
                try:
                    print(port, s.recv(100).decode())
                except ConnectionRefusedError:
                    print(port, "refused")
            """;
        var r = f.Lab.Sh($"python3 -c '{script}'");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["7 netlab", "5353 refused"], r.StdoutLines);
    }
}
