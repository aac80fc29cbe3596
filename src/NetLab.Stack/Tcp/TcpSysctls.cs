using NetLab.Core.Sysctl;

namespace NetLab.Stack.Tcp;

/// <summary>
/// net.ipv4.tcp_* with Linux 6.18's defaults (Documentation/networking/ip-sysctl.rst, tcp_sk_init()).
/// Size-dependent defaults (tcp_max_syn_backlog, tcp_max_tw_buckets, tcp_max_orphans, tcp_rmem[2]) are
/// those of a host with 24 GiB of RAM (an established hash of 262144 buckets), the machine NetLab's real-peer
/// tests run on. Bounds are those of the proc handlers (proc_dointvec_minmax extra1/extra2).
/// </summary>
public sealed class TcpSysctls
{
    [Sysctl("tcp_timestamps", Min = 0, Max = 2)] public int TcpTimestamps { get; set; } = 1;
    [Sysctl("tcp_window_scaling", Min = 0, Max = 1)] public int TcpWindowScaling { get; set; } = 1;
    [Sysctl("tcp_sack", Min = 0, Max = 1)] public int TcpSack { get; set; } = 1;
    [Sysctl("tcp_dsack", Min = 0, Max = 1)] public int TcpDsack { get; set; } = 1;

    [Sysctl("tcp_syn_retries", Min = 1, Max = 127)] public int TcpSynRetries { get; set; } = 6;
    /// <summary>Linux 6.5+: the first N SYN retransmissions keep the initial RTO (1 s) instead of doubling it.</summary>
    [Sysctl("tcp_syn_linear_timeouts", Min = 0, Max = 4)] public int TcpSynLinearTimeouts { get; set; } = 4;
    [Sysctl("tcp_synack_retries", Min = 0, Max = 127)] public int TcpSynackRetries { get; set; } = 5;
    [Sysctl("tcp_syncookies", Min = 0, Max = 2)] public int TcpSyncookies { get; set; } = 1;
    [Sysctl("tcp_max_syn_backlog", Min = 0, Max = int.MaxValue)] public int TcpMaxSynBacklog { get; set; } = 2048;
    [Sysctl("tcp_abort_on_overflow", Min = 0, Max = 1)] public int TcpAbortOnOverflow { get; set; }

    [Sysctl("tcp_fin_timeout", Min = 0, Max = 120)] public int TcpFinTimeout { get; set; } = 60;
    [Sysctl("tcp_max_tw_buckets", Min = 0, Max = int.MaxValue)] public int TcpMaxTwBuckets { get; set; } = 131072;
    [Sysctl("tcp_tw_reuse", Min = 0, Max = 2)] public int TcpTwReuse { get; set; } = 2;
    [Sysctl("tcp_tw_reuse_delay", Min = 1, Max = int.MaxValue)] public int TcpTwReuseDelay { get; set; } = 1000;
    [Sysctl("tcp_rfc1337", Min = 0, Max = 1)] public int TcpRfc1337 { get; set; }
    [Sysctl("tcp_max_orphans", Min = 0, Max = int.MaxValue)] public int TcpMaxOrphans { get; set; } = 131072;
    [Sysctl("tcp_orphan_retries", Min = 0, Max = int.MaxValue)] public int TcpOrphanRetries { get; set; }
    [Sysctl("tcp_challenge_ack_limit", Min = 0, Max = int.MaxValue)] public int TcpChallengeAckLimit { get; set; } = int.MaxValue;
    [Sysctl("tcp_invalid_ratelimit", Min = 0, Max = int.MaxValue)] public int TcpInvalidRatelimit { get; set; } = 500;

    [Sysctl("tcp_retries1", Min = 0, Max = 255)] public int TcpRetries1 { get; set; } = 3;
    [Sysctl("tcp_retries2", Min = 0, Max = int.MaxValue)] public int TcpRetries2 { get; set; } = 15;
    [Sysctl("tcp_rto_min_us", Min = 1, Max = int.MaxValue)] public int TcpRtoMinUs { get; set; } = 200_000;
    [Sysctl("tcp_rto_max_ms", Min = 1000, Max = 120_000)] public int TcpRtoMaxMs { get; set; } = 120_000;
    [Sysctl("tcp_reordering", Min = 1, Max = int.MaxValue)] public int TcpReordering { get; set; } = 3;
    [Sysctl("tcp_max_reordering", Min = 1, Max = int.MaxValue)] public int TcpMaxReordering { get; set; } = 300;
    /// <summary>Bit 0: RACK loss detection; 2: static reordering window; 4: no dupthresh.</summary>
    [Sysctl("tcp_recovery", Min = 0, Max = 7)] public int TcpRecovery { get; set; } = 1;
    /// <summary>3 or 4 enable the tail loss probe.</summary>
    [Sysctl("tcp_early_retrans", Min = 0, Max = 4)] public int TcpEarlyRetrans { get; set; } = 3;
    [Sysctl("tcp_frto", Min = 0, Max = 2)] public int TcpFrto { get; set; } = 2;
    [Sysctl("tcp_min_snd_mss", Min = 48, Max = 65535 - 40)] public int TcpMinSndMss { get; set; } = 48;
    /// <summary>TCP Small Queues: at most this many bytes of a socket below TCP (4 MiB since Linux 6.16).</summary>
    [Sysctl("tcp_limit_output_bytes", Min = 0, Max = int.MaxValue)] public int TcpLimitOutputBytes { get; set; } = 4 << 20;
    /// <summary>The fewest segments tcp_tso_autosize() puts in a TSO/GSO packet.</summary>
    [Sysctl("tcp_min_tso_segs", Min = 1, Max = 255)] public int TcpMinTsoSegs { get; set; } = 2;
    /// <summary>tcp_tso_should_defer(): send now when at least 1/divisor of the window is available (0: at most 3 MSS deferred).</summary>
    [Sysctl("tcp_tso_win_divisor", Min = 0, Max = int.MaxValue)] public int TcpTsoWinDivisor { get; set; } = 3;
    /// <summary>tcp_tso_autosize(): the RTT allowance of gso_max_size halves every 2^log µs of min RTT.</summary>
    [Sysctl("tcp_tso_rtt_log", Min = 0, Max = 255)] public int TcpTsoRttLog { get; set; } = 9;
    [Sysctl("tcp_pacing_ss_ratio", Min = 0, Max = 1000)] public int TcpPacingSsRatio { get; set; } = 200;
    [Sysctl("tcp_pacing_ca_ratio", Min = 0, Max = 1000)] public int TcpPacingCaRatio { get; set; } = 120;
    /// <summary>SACK compression (tcp_input.c __tcp_ack_snd_check): at most this many dup ACKs coalesced.</summary>
    [Sysctl("tcp_comp_sack_nr", Min = 0, Max = 255)] public int TcpCompSackNr { get; set; } = 44;
    /// <summary>Upper bound of the SACK compression delay (5 % of the RTT otherwise).</summary>
    [Sysctl("tcp_comp_sack_delay_ns", Min = 0, Max = int.MaxValue)] public long TcpCompSackDelayNs { get; set; } = 1_000_000;
    /// <summary>hrtimer slack of the SACK compression timer; NetLab fires at the deadline (slack unused).</summary>
    [Sysctl("tcp_comp_sack_slack_ns", Min = 0, Max = int.MaxValue)] public long TcpCompSackSlackNs { get; set; } = 100_000;

    private int[] _tcpRmem = [4096, 131072, 33554432];
    private int[] _tcpWmem = [4096, 16384, 4194304];

    /// <summary>min, default, max receive buffer (bytes). The max is 32 MiB since Linux 6.16 on hosts with ≥ 4 GiB.</summary>
    [Sysctl("tcp_rmem", Min = 1, Max = int.MaxValue)]
    public int[] TcpRmem { get => _tcpRmem; set => _tcpRmem = Triple(value, "tcp_rmem"); }
    [Sysctl("tcp_wmem", Min = 1, Max = int.MaxValue)]
    public int[] TcpWmem { get => _tcpWmem; set => _tcpWmem = Triple(value, "tcp_wmem"); }
    [Sysctl("tcp_moderate_rcvbuf", Min = 0, Max = 1)] public int TcpModerateRcvbuf { get; set; } = 1;

    [Sysctl("tcp_keepalive_time", Min = 1, Max = 32767)] public int TcpKeepaliveTime { get; set; } = 7200;
    [Sysctl("tcp_keepalive_intvl", Min = 1, Max = 32767)] public int TcpKeepaliveIntvl { get; set; } = 75;
    [Sysctl("tcp_keepalive_probes", Min = 1, Max = 127)] public int TcpKeepaliveProbes { get; set; } = 9;

    [Sysctl("tcp_slow_start_after_idle", Min = 0, Max = 1)] public int TcpSlowStartAfterIdle { get; set; } = 1;
    [Sysctl("tcp_congestion_control")] public string TcpCongestionControl
    {
        get => _cc;
        set
        {
            if (!CongestionControl.CongestionControlRegistry.IsKnown(value))
                throw new ArgumentException("tcp_congestion_control: No such file or directory", nameof(value));
            _cc = value;
        }
    }
    private string _cc = "cubic"; // CONFIG_DEFAULT_TCP_CONG, as distribution kernels build it
    /// <summary>Read-only in Linux; writes are rejected by the tree's handler (EPERM there, EINVAL here).</summary>
    [Sysctl("tcp_available_congestion_control")]
    public string TcpAvailableCongestionControl
    {
        get => CongestionControl.CongestionControlRegistry.Available;
        set => throw new ArgumentException("tcp_available_congestion_control: Operation not permitted", nameof(value));
    }

    private static int[] Triple(int[] v, string name) =>
        v.Length == 3 && v[0] <= v[1] && v[1] <= v[2] ? v : throw new ArgumentException($"{name}: Invalid argument", nameof(v));
}
