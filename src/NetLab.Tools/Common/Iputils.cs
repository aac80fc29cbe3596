namespace NetLab.Tools.Common;

/// <summary>Helpers shared by the iputils tools (iputils_common.c).</summary>
internal static class Iputils
{
    /// <summary>
    /// strtol_or_err(): a decimal in [min, max], else the iputils message on stderr (the caller exits
    /// with EXIT_FAILURE).
    /// </summary>
    public static bool StrtolOrErr(IToolOutput output, string program, string text, string message, long min, long max, out long value)
    {
        if (!CFormat.TryParseLong(text, out value))
        {
            // strtol() sets ERANGE only when the digits overflow a long; a non-number leaves errno 0.
            bool overflow = text.Length > 0 && text.TrimStart().TrimStart('+', '-').All(char.IsAsciiDigit);
            output.WriteError(overflow
                ? $"{program}: {message}: '{text}': Numerical result out of range"
                : $"{program}: {message}: '{text}'");
            return false;
        }
        if (value < min || value > max)
        {
            output.WriteError($"{program}: {message}: '{text}': out of range: {min} <= value <= {max}");
            return false;
        }
        return true;
    }
}
