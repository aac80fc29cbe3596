using NetLab.Cli;

namespace NetLab.Drill.Tests;

/// <summary>netlab drill's exit codes and output: 0 pass, 1 mismatch (path:line, expected and actual), 2 invalid script.</summary>
public class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("drill-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Drill(string script, params string[] extra)
    {
        string path = Path.Combine(_dir, "t.pkt");
        File.WriteAllText(path, script);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.BuildCommand(stdout, stderr).Parse(["drill", path, .. extra]).Invoke();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private const string Connect = """
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
        +0 > S 0:0(0) <...>

        """;

    [Fact]
    public void Pass_ExitsZero()
    {
        var (code, output, _) = Drill(Connect);
        Assert.Equal(0, code);
        Assert.Contains("pass", output);
    }

    [Fact]
    public void Mismatch_ExitsOne_WithPathLineAndBothPackets()
    {
        var (code, _, err) = Drill(Connect + "+1 > S. 0:0(0) <...>\n");
        Assert.Equal(1, code);
        Assert.Contains("t.pkt:5: error handling packet: live packet field tcp_flags: expected: S. vs actual: S", err);
        Assert.Contains("script packet:   1.000000 > S. 0:0(0) <...>", err);
        Assert.Contains("actual packet:   1.000000 > S 0:0(0) win", err);
    }

    [Fact]
    public void SyntaxError_ExitsTwo_WithLineAndColumn()
    {
        var (code, _, err) = Drill("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n  +0 connect(3, ..., ...) = -1 EINPROGRESS\n +0 > S 0:0(0 <...>\n");
        Assert.Equal(2, code);
        Assert.Contains("t.pkt:3:15: syntax error: expected ')', found '<'", err);
    }

    [Fact]
    public void Verbose_PrintsEvents_AndToleranceOverrides()
    {
        var (code, output, _) = Drill(Connect + "+1.003 > S 0:0(0) <...>\n", "--verbose", "--tolerance-usecs", "5000");
        Assert.Equal(0, code);
        Assert.Contains("syscall  line 3: connect(3, ..., ...)", output);
        Assert.Contains("matched  line 5", output);
    }
}
