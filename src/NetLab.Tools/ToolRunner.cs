using System.Text;
using NetLab.Stack;

namespace NetLab.Tools;

/// <summary>Runs a command line on a host, as a shell would: split into words, find the program, return its status.</summary>
public static class ToolRunner
{
    /// <summary>Exit status of a command killed by SIGINT (128 + 2), as bash reports it.</summary>
    public const int InterruptedStatus = 130;

    private static readonly Dictionary<string, ITool> ByName = new ITool[]
    {
        new PingTool(), new TracerouteTool(), new TracepathTool(), new IpTool(), new ArpTool(), new SysctlTool(),
        new ArpingTool(), new TcpRrTool(), new Ss.SsTool(), new Netstat.NetstatTool(), new Nc.NcTool(), new Iperf.Iperf3Tool(),
        new Servers.InetdServerTool("echo-server"), new Servers.InetdServerTool("discard-server"),
        new Servers.InetdServerTool("chargen-server"), new Hping3.Hping3Tool(), new Dmesg.DmesgTool(),
        new Servers.ServeTool(), new Curl.CurlTool(),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The commands NetLab hosts have.</summary>
    public static IReadOnlyDictionary<string, ITool> Tools => ByName;

    /// <summary>
    /// Splits <paramref name="commandLine"/>, runs the tool on <paramref name="host"/> and returns its exit
    /// status: 127 with bash's message for an unknown command, 2 for a line bash could not parse.
    /// <paramref name="cancellationToken"/> is SIGINT: tools finish as they would on ^C. The tool runs on
    /// the host's scheduler (started there if called from elsewhere), so it only advances with virtual time:
    /// drive it with Scheduler.Run(task).
    /// </summary>
    public static Task<int> RunAsync(Host host, string commandLine, IToolOutput output, CancellationToken cancellationToken)
        => RunAsync(host, commandLine, output, cancellationToken, null);

    /// <summary>As above, with <paramref name="stdin"/> as the command's standard input (null: /dev/null).</summary>
    public static Task<int> RunAsync(Host host, string commandLine, IToolOutput output, CancellationToken cancellationToken, string? stdin)
    {
        var context = host.Scheduler.SynchronizationContext;
        if (SynchronizationContext.Current == context) return RunHereAsync(host, commandLine, output, cancellationToken, stdin);
        // Every await must resume on the scheduler: start the tool inside its SynchronizationContext.
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Post(_ =>
        {
            var previous = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                RunHereAsync(host, commandLine, output, cancellationToken, stdin).ContinueWith(t =>
                {
                    if (t.IsFaulted) done.SetException(t.Exception!.InnerExceptions);
                    else if (t.IsCanceled) done.SetCanceled();
                    else done.SetResult(t.Result);
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        }, null);
        return done.Task;
    }

    private static async Task<int> RunHereAsync(Host host, string commandLine, IToolOutput output, CancellationToken cancellationToken, string? stdin)
    {
        if (!TrySplit(commandLine, out var words, out var error))
        {
            output.WriteError($"bash: {error}");
            return 2;
        }
        if (!TakeInput(words, ref stdin, out error))
        {
            output.WriteError($"bash: {error}");
            return 2;
        }
        if (words.Count == 0) return 0;
        if (!ByName.TryGetValue(words[0], out var tool))
        {
            output.WriteError($"bash: {words[0]}: command not found");
            return 127;
        }
        var ctx = new ToolContext(host, output, cancellationToken, stdin is null ? default : Encoding.UTF8.GetBytes(stdin));
        try
        {
            return await tool.RunAsync(ctx, words.Skip(1).ToList());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return InterruptedStatus;
        }
    }

    /// <summary>
    /// The two ways a command line can feed a command's stdin without files: a here-string
    /// (<c>cmd &lt;&lt;&lt; WORD</c>, WORD and a newline) and a pipe from echo or printf (<c>echo [-n] WORDS | cmd</c>,
    /// <c>printf FORMAT | cmd</c> with \n and \t). The words that made the input are removed.
    /// </summary>
    internal static bool TakeInput(List<string> words, ref string? stdin, out string? error)
    {
        error = null;
        int pipe = words.IndexOf("|");
        if (pipe >= 0)
        {
            var left = words.Take(pipe).ToList();
            if (left.Count == 0 || pipe == words.Count - 1) { error = "syntax error near unexpected token `|'"; return false; }
            if (left[0] == "echo")
            {
                bool newline = left.Count < 2 || left[1] != "-n";
                stdin = string.Join(' ', left.Skip(newline ? 1 : 2)) + (newline ? "\n" : "");
            }
            else if (left[0] == "printf" && left.Count >= 2)
                stdin = left[1].Replace("\\n", "\n").Replace("\\t", "\t");
            else { error = $"{left[0]}: only echo and printf can feed a pipe in NetLab"; return false; }
            words.RemoveRange(0, pipe + 1);
        }
        int here = words.IndexOf("<<<");
        if (here >= 0)
        {
            if (here == words.Count - 1) { error = "syntax error near unexpected token `newline'"; return false; }
            stdin = words[here + 1] + "\n";
            words.RemoveRange(here, 2);
        }
        return true;
    }

    /// <summary>
    /// Shell word splitting: blanks separate words; '...' keeps everything literally; "..." keeps
    /// everything but backslash escapes of \ " $ `; a backslash outside quotes escapes the next character.
    /// </summary>
    public static bool TrySplit(string commandLine, out List<string> words, out string? error)
    {
        words = [];
        error = null;
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < commandLine.Length; i++)
        {
            char c = commandLine[i];
            switch (c)
            {
                case ' ' or '\t' or '\n':
                    if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
                    break;
                case '\'':
                    int close = commandLine.IndexOf('\'', i + 1);
                    if (close < 0) { error = "unexpected EOF while looking for matching `''"; return false; }
                    word.Append(commandLine, i + 1, close - i - 1);
                    inWord = true;
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    for (i++; ; i++)
                    {
                        if (i >= commandLine.Length) { error = "unexpected EOF while looking for matching `\"'"; return false; }
                        if (commandLine[i] == '"') break;
                        if (commandLine[i] == '\\' && i + 1 < commandLine.Length && commandLine[i + 1] is '\\' or '"' or '$' or '`')
                            i++;
                        word.Append(commandLine[i]);
                    }
                    break;
                case '\\':
                    inWord = true;
                    if (i + 1 < commandLine.Length) word.Append(commandLine[++i]);
                    break;
                default:
                    inWord = true;
                    word.Append(c);
                    break;
            }
        }
        if (inWord) words.Add(word.ToString());
        return true;
    }
}
