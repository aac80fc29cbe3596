using System.Globalization;

namespace NetLab.Tools.Servers;

/// <summary>
/// One service to run, as <c>PROTO:PORT:SERVICE[:ARGUMENT]</c>: <c>tcp:PORT:echo</c> (RFC 862),
/// <c>udp:PORT:echo</c>, <c>tcp:PORT:discard</c> (RFC 863), <c>tcp:PORT:http:DIR</c> (static files).
/// <c>udp:PORT:dns:ZONEFILE</c> and <c>udp:67:dhcp:FIRST-LAST</c> are recognised and refused until issue #6
/// brings DNS and DHCP.
/// </summary>
public readonly record struct ServeSpec(string Protocol, ushort Port, string Service, string? Argument)
{
    public const string Usage = "SPEC is tcp:PORT:echo, udp:PORT:echo, tcp:PORT:discard or tcp:PORT:http:DIR";

    public static bool TryParse(string text, out ServeSpec spec, out string? error)
    {
        spec = default;
        error = null;
        var parts = text.Split(':', 4);
        if (parts.Length < 3)
        {
            error = $"{text}: {Usage}";
            return false;
        }
        string proto = parts[0], service = parts[2];
        string? argument = parts.Length == 4 ? parts[3] : null;
        if (!ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
        {
            error = $"{text}: invalid port '{parts[1]}'";
            return false;
        }
        switch (proto, service)
        {
            case ("udp", "dns"):
                error = $"{text}: the DNS server is not built yet (issue #6, DNS and DHCP)";
                return false;
            case ("udp", "dhcp"):
                error = $"{text}: the DHCP server is not built yet (issue #6, DNS and DHCP)";
                return false;
            case ("tcp", "echo") or ("udp", "echo") or ("tcp", "discard") when argument is null:
                break;
            case ("tcp", "http") when !string.IsNullOrEmpty(argument):
                if (!Directory.Exists(argument))
                {
                    error = $"{text}: {argument}: No such directory";
                    return false;
                }
                break;
            default:
                error = $"{text}: {Usage}";
                return false;
        }
        spec = new ServeSpec(proto, port, service, argument);
        return true;
    }

    public override string ToString() => $"{Protocol}:{Port}:{Service}";
}
