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
            return ExitUsage;
        }
        // do_cmd() returns EXIT_FAILURE here, unlike usage()'s exit(-1).
        _out.WriteError($"Object \"{obj}\" is unknown, try \"ip help\".");
        return 1;
    }

    /// <summary>
    /// usage() of iproute2 6.1, word for word: it lists the objects and options ip has, not the few
    /// NetLab implements (those answer as above), because that is what the real tool prints.
    /// </summary>
    private void Usage()
    {
        foreach (var line in UsageText) _out.WriteError(line);
    }

    private static readonly string[] UsageText =
    [
        "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }",
        "       ip [ -force ] -batch filename",
        "where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |",
        "                   link | macsec | maddress | monitor | mptcp | mroute | mrule |",
        "                   neighbor | neighbour | netconf | netns | nexthop | ntable |",
        "                   ntbl | route | rule | sr | tap | tcpmetrics |",
        "                   token | tunnel | tuntap | vrf | xfrm }",
        "       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |",
        "                    -h[uman-readable] | -iec | -j[son] | -p[retty] |",
        "                    -f[amily] { inet | inet6 | mpls | bridge | link } |",
        "                    -4 | -6 | -M | -B | -0 |",
        "                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |",
        "                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |",
        "                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |",
        "                    -c[olor]}",
    ];

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
        prefix = default;
        if (arg is "default" or "any" or "all")
        {
            prefix = new Ipv4Prefix(Ipv4Address.Any, 0);
            return true;
        }
        int slash = arg.IndexOf('/');
        if (TryGetAddrIpv4(slash < 0 ? arg : arg[..slash], out var address)
            && Ipv4Prefix.TryParse(slash < 0 ? address.ToString() : $"{address}/{arg[(slash + 1)..]}", out prefix, out _))
            return true;
        _out.WriteError($"Error: {family} prefix is expected rather than \"{arg}\".");
        return false;
    }

    private bool TryGetAddress(string arg, string family, out Ipv4Address address)
    {
        if (TryGetAddrIpv4(arg, out address)) return true;
        _out.WriteError($"Error: {family} address is expected rather than \"{arg}\".");
        return false;
    }

    /// <summary>
    /// get_addr_ipv4(): one to four parts of strtoul(, 0) (decimal, 0x hex, 0 octal) up to 255, the
    /// missing ones zero: "10.1.1" is 10.1.1.0 and "10.2" 10.2.0.0, as `ip addr add 10.1.1 dev lo` shows.
    /// </summary>
    private static bool TryGetAddrIpv4(string text, out Ipv4Address address)
    {
        address = default;
        var parts = text.Split('.');
        if (parts.Length > 4) return false;
        uint value = 0;
        for (int i = 0; i < 4; i++)
        {
            uint b = 0;
            if (i < parts.Length && !TryStrtoul(parts[i], out b)) return false;
            if (b > 255) return false;
            value = (value << 8) | b;
        }
        address = new Ipv4Address(value);
        return true;
    }

    /// <summary>The whole of <paramref name="s"/> as strtoul(s, &amp;end, 0) reads a number.</summary>
    private static bool TryStrtoul(string s, out uint value)
    {
        value = 0;
        var (digits, radix) = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? (s[2..], 16)
            : s.Length > 1 && s[0] == '0' ? (s[1..], 8) : (s, 10);
        if (digits.Length == 0) return false;
        foreach (char c in digits)
        {
            int d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : 99;
            if (d >= radix) return false;
            value = value * (uint)radix + (uint)d;
            if (value > 255) return false;
        }
        return true;
    }

    private static string ScopeName(RouteScope s) => s switch
    {
        RouteScope.Universe => "global",
        RouteScope.Link => "link",
        RouteScope.Host => "host",
        _ => ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
