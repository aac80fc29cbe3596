using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Tools.Ip;

/// <summary>One ip invocation. iproute2's exits: 0, 1 for bad arguments and missing devices, 2 for kernel (RTNETLINK) errors, 255 for -1.</summary>
internal sealed partial class IpRun(ToolContext ctx)
{
    private const int ExitKernel = 2, ExitUsage = 255;

    private readonly IToolOutput _out = ctx.Output;
    private readonly Host _host = ctx.Host;
    private int _showStats;
    private bool _inetOnly;

    /// <summary>iproute2's matches(): <paramref name="arg"/> is a non-empty prefix of <paramref name="word"/>.</summary>
    private static bool Matches(string arg, string word) => arg.Length > 0 && word.StartsWith(arg, StringComparison.Ordinal);

    public int Run(IReadOnlyList<string> args)
    {
        int i = 0;
        for (; i < args.Count && args[i].Length > 1 && args[i][0] == '-'; i++)
        {
            var opt = args[i].TrimStart('-');
            if (opt == "4") _inetOnly = true;
            else if (Matches(opt, "statistics")) _showStats++;
            else
            {
                _out.WriteError($"Option \"{args[i]}\" is unknown, try \"ip -help\".");
                return ExitUsage;
            }
        }
        if (i >= args.Count)
        {
            Usage();
            return ExitUsage;
        }
        var obj = args[i];
        var rest = args.Skip(i + 1).ToList();
        // The table order of ip.c decides abbreviations: "a" is address, "r" route, "n" neighbour, "l" link.
        if (Matches(obj, "address")) return DoAddress(rest);
        if (Matches(obj, "route")) return DoRoute(rest);
        if (Matches(obj, "neighbor") || Matches(obj, "neighbour")) return DoNeigh(rest);
        if (Matches(obj, "link")) return DoLink(rest);
        if (Matches(obj, "help"))
        {
            Usage();
            return 0;
        }
        _out.WriteError($"Object \"{obj}\" is unknown, try \"ip help\".");
        return ExitUsage;
    }

    private void Usage()
    {
        _out.WriteError("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }");
        _out.WriteError("where  OBJECT := { address | link | neighbour | route }");
        _out.WriteError("       OPTIONS := { -4 | -s[tatistics] }");
    }

    /// <summary>The device named <paramref name="name"/>, or iproute2's "Cannot find device" (exit 1).</summary>
    private NetDevice? FindDevice(string name, out int status)
    {
        var dev = _host.FindDevice(name);
        status = 0;
        if (dev is null)
        {
            _out.WriteError($"Cannot find device \"{name}\"");
            status = 1;
        }
        return dev;
    }

    /// <summary>Argument checks iproute2 makes with NEXT_ARG(): "Command line is not complete. Try option \"help\"".</summary>
    private bool NextArg(List<string> args, ref int i)
    {
        if (++i < args.Count) return true;
        _out.WriteError("Command line is not complete. Try option \"help\"");
        return false;
    }

    /// <summary>family_name_verbose() of the family in force: -4 makes it "inet".</summary>
    private string Family => _inetOnly ? "inet" : "any valid";

    /// <summary>get_prefix() for an IPv4 prefix or "default"/"any"/"all"; iproute2's message otherwise.</summary>
    private bool TryGetPrefix(string arg, string family, out Ipv4Prefix prefix)
    {
        if (arg is "default" or "any" or "all")
        {
            prefix = new Ipv4Prefix(Ipv4Address.Any, 0);
            return true;
        }
        if (Ipv4Prefix.TryParse(arg, out prefix, out _)) return true;
        _out.WriteError($"Error: {family} prefix is expected rather than \"{arg}\".");
        return false;
    }

    private bool TryGetAddress(string arg, string family, out Ipv4Address address)
    {
        if (Ipv4Address.TryParse(arg, out address)) return true;
        _out.WriteError($"Error: {family} address is expected rather than \"{arg}\".");
        return false;
    }

    private static string ScopeName(RouteScope s) => s switch
    {
        RouteScope.Universe => "global",
        RouteScope.Link => "link",
        RouteScope.Host => "host",
        _ => ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
