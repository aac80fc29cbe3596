using System.Globalization;

namespace NetLab.Tools.Common;

/// <summary>printf conversions .NET has no exact equivalent of.</summary>
internal static partial class CFormat
{
    /// <summary>
    /// printf("%.{precision}g"): <paramref name="precision"/> significant digits, trailing zeros
    /// removed, exponent form when the exponent is below -4 or at least the precision (C11 §7.21.6.1).
    /// </summary>
    public static string G(double value, int precision = 6)
    {
        if (value == 0) return "0";
        if (!double.IsFinite(value)) return double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
        // Round to the precision first: the exponent that decides the style is that of the rounded value.
        var e = value.ToString("E" + (precision - 1), CultureInfo.InvariantCulture);
        int exponent = int.Parse(e[(e.IndexOf('E') + 1)..], CultureInfo.InvariantCulture);
        if (exponent < -4 || exponent >= precision)
        {
            var mantissa = TrimZeros(e[..e.IndexOf('E')]);
            return $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }
        return TrimZeros(value.ToString("F" + (precision - 1 - exponent), CultureInfo.InvariantCulture));
    }

    private static string TrimZeros(string s) => s.Contains('.') ? s.TrimEnd('0').TrimEnd('.') : s;

    /// <summary>strtol() of a whole decimal word (leading blanks and sign allowed), as iputils' strtol_or_err accepts.</summary>
    public static bool TryParseLong(string s, out long value) =>
        long.TryParse(s, NumberStyles.AllowLeadingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// strtod(): the longest prefix of <paramref name="s"/> that is a decimal number (after blanks),
    /// and what is left after it; 0 and all of <paramref name="s"/> when there is none.
    /// </summary>
    public static double Strtod(string s, out string rest)
    {
        var m = StrtodPrefix().Match(s);
        if (!m.Success || !double.TryParse(m.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            rest = s;
            return 0;
        }
        rest = s[m.Length..];
        return value;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")]
    private static partial System.Text.RegularExpressions.Regex StrtodPrefix();

    /// <summary>
    /// strtoul(s, &amp;end, 0): after blanks an optional sign, then "0x" hex, "0" octal or decimal digits.
    /// <paramref name="used"/> is how many characters were read (0 when no number starts the string);
    /// too big saturates at ULONG_MAX, and a minus sign negates modulo 2^64.
    /// </summary>
    public static ulong Strtoul(string s, out int used)
    {
        used = 0;
        int i = 0;
        while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') i++;
        bool negative = false;
        if (i < s.Length && s[i] is '+' or '-') negative = s[i++] == '-';
        int radix = 10;
        if (i + 2 < s.Length && s[i] == '0' && s[i + 1] is 'x' or 'X' && Digit(s[i + 2]) < 16)
        {
            radix = 16;
            i += 2;
        }
        else if (i < s.Length && s[i] == '0') radix = 8;
        int start = i;
        ulong value = 0;
        bool overflow = false;
        for (; i < s.Length && Digit(s[i]) < radix; i++)
        {
            ulong d = (ulong)Digit(s[i]);
            if (value > (ulong.MaxValue - d) / (ulong)radix) overflow = true;
            value = unchecked(value * (ulong)radix + d);
        }
        if (i == start) return 0;
        used = i;
        if (overflow) return ulong.MaxValue;
        return negative ? unchecked(0 - value) : value;
    }

    private static int Digit(char c) =>
        c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : c is >= 'A' and <= 'Z' ? c - 'A' + 10 : 99;

    /// <summary>strtod() of a whole word.</summary>
    public static bool TryParseDouble(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
