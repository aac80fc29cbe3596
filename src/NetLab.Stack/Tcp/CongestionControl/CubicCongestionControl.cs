using System.Numerics;

namespace NetLab.Stack.Tcp.CongestionControl;

/// <summary>
/// The module parameters of tcp_cubic (/sys/module/tcp_cubic/parameters), with Linux's defaults. An
/// instance reads them once, as if tcp_cubic had been loaded with them: Linux also fixes the factors derived
/// from beta and bic_scale at registration (cubictcp_register), whatever is written to the parameters later.
/// </summary>
internal sealed record CubicParameters
{
    public const int HystartAckTrain = 0x1; // HYSTART_ACK_TRAIN
    public const int HystartDelay = 0x2;    // HYSTART_DELAY

    public static readonly CubicParameters Default = new();

    public int FastConvergence { get; init; } = 1;
    /// <summary>Multiplicative decrease, in 1/1024 (BICTCP_BETA_SCALE): 717 ≈ 0.7, RFC 9438 §4.1.1 β_cubic.</summary>
    public int Beta { get; init; } = 717;
    /// <summary>Used only with hystart = 0.</summary>
    public int InitialSsthresh { get; init; }
    /// <summary>c = bic_scale/1024 per reference RTT of 100 ms, so C = 41·10/1024 ≈ 0.4 segments/s³ (RFC 9438 §4.1.1).</summary>
    public int BicScale { get; init; } = 41;
    public int TcpFriendliness { get; init; } = 1;
    public int Hystart { get; init; } = 1;
    public int HystartDetect { get; init; } = HystartAckTrain | HystartDelay;
    public int HystartLowWindow { get; init; } = 16;
    public int HystartAckDeltaUs { get; init; } = 2000;
}

/// <summary>
/// CUBIC as Linux 6.x implements it in net/ipv4/tcp_cubic.c (RFC 9438): after a reduction, cwnd follows
/// W(t) = C·(t − K)³ + W_max, concave up to the previous maximum W_max and convex beyond it, never faster than
/// 1.5× per RTT and never slower than the Reno emulation (§4.3). Linux is followed where it departs from the RFC:
/// the target is W(t + delay_min), not W(t + smoothed RTT) (§4.2); before the first loss growth is at least 5 %
/// per RTT; the Reno emulation keeps α = 8/15 after reaching W_max (§4.3 raises it to 1); and slow start uses
/// the original HyStart (ACK train and delay increase), not HyStart++ (§4.10, RFC 9406).
/// <para>
/// Time: Linux counts the cubic epoch in jiffies. NetLab's kernel runs at HZ = 1000, so one jiffy is one
/// millisecond of <see cref="TcpCongestionState.NowUs"/>, and jiffies start at INITIAL_JIFFIES (300 s before
/// wrapping) as Linux's do, so epoch_start's "0 = no epoch" sentinel is hit as rarely as in Linux.
/// </para>
/// </summary>
public sealed class CubicCongestionControl : ICongestionControl
{
    private const uint BictcpBetaScale = 1024;  // BICTCP_BETA_SCALE
    private const int BictcpHz = 10;            // BICTCP_HZ: times on the curve are in 2^-10 s
    private const byte HystartMinSamples = 8;   // HYSTART_MIN_SAMPLES
    private const uint HystartDelayMin = 4000;  // HYSTART_DELAY_MIN, µs
    private const uint HystartDelayMax = 16000; // HYSTART_DELAY_MAX, µs
    private const int Hz = 1000;                // CONFIG_HZ
    private const uint InitialJiffies = unchecked((uint)(-300 * Hz)); // INITIAL_JIFFIES
    private const uint UsecPerJiffy = 1_000_000 / Hz;
    private const uint UsecPerMsec = 1000;
    private const ulong UsecPerSec = 1_000_000;
    // sk_gso_max_size: TCP sockets always use GSO (sk_setup_caps), and NetLab's devices keep Linux's
    // default gso_max_size, GSO_LEGACY_MAX_SIZE.
    private const ulong SkGsoMaxSize = 65536;

    // cubic_root(): v[x] = cbrt(x << 18) − 1 for x in [0, 63], hand-refined in Linux (Willy Tarreau);
    // cbrt(x) ≈ (v[x] + 10) >> 6. The values must be Linux's for bit-identical K.
    private static ReadOnlySpan<byte> V =>
    [
        0, 54, 54, 54, 118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156,
        157, 161, 164, 168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199,
        200, 202, 204, 206, 209, 211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229,
        231, 232, 234, 236, 237, 239, 240, 242, 244, 245, 246, 248, 250, 251, 252, 254,
    ];

    private readonly CubicParameters _p;
    private readonly uint _beta;
    /// <summary>beta_scale: 8·(1024 + β)/3/(1024 − β) = 15 = 8/α_cubic (RFC 9438 §4.3), in eighths of cwnd.</summary>
    private readonly uint _betaScale;
    /// <summary>cube_rtt_scale: bic_scale·10 = 410 = 1024·C.</summary>
    private readonly uint _cubeRttScale;
    /// <summary>cube_factor: 2^(10 + 3·BICTCP_HZ)/cube_rtt_scale, so K = cubic_root(cube_factor·(W_max − cwnd)).</summary>
    private readonly ulong _cubeFactor;

    // struct bictcp. Times in jiffies unless named µs.
    private uint _cnt;             // increase cwnd by 1 after this many ACKs
    private uint _lastMaxCwnd;     // W_max
    private uint _lastCwnd;
    private uint _lastTime;
    private uint _bicOriginPoint;  // the plateau of the curve
    private uint _bicK;            // K in 2^-10 s from the epoch start
    private uint _delayMin;        // µs
    private uint _epochStart;      // 0 = no epoch
    private uint _ackCnt;
    private uint _tcpCwnd;         // the Reno emulation, W_est (RFC 9438 §4.3)
    private byte _sampleCnt;
    private bool _found;
    private uint _roundStart;      // µs
    private uint _endSeq;
    private uint _lastAck;         // µs
    private uint _currRtt;         // µs

    public CubicCongestionControl() : this(CubicParameters.Default) { }

    /// <summary>cubictcp_register(): the factors derived from beta and bic_scale.</summary>
    internal CubicCongestionControl(CubicParameters p)
    {
        _p = p;
        _beta = (uint)p.Beta;
        _betaScale = 8 * (BictcpBetaScale + _beta) / 3 / (BictcpBetaScale - _beta);
        _cubeRttScale = (uint)p.BicScale * 10;
        _cubeFactor = (1UL << (10 + 3 * BictcpHz)) / _cubeRttScale;
    }

    public string Name => "cubic";
    public bool HasCongControl => false;

    internal uint Cnt => _cnt;
    internal uint LastMaxCwnd => _lastMaxCwnd;
    internal uint BicK => _bicK;
    internal uint EpochStart => _epochStart;
    internal uint DelayMin => _delayMin;

    /// <summary>tcp_jiffies32 (or lsndtime) for a time in µs, at HZ = 1000.</summary>
    internal static uint Jiffies32(long us) => InitialJiffies + (uint)(us / UsecPerJiffy);

    /// <summary>Linux: bictcp_clock_us(), the low 32 bits of tcp_mstamp.</summary>
    private static uint BictcpClockUs(TcpCongestionState tp) => (uint)tp.NowUs;

    /// <summary>Linux: bictcp_reset(), which clears struct bictcp up to (not including) the HyStart round fields.</summary>
    private void BictcpReset()
    {
        _cnt = _lastMaxCwnd = _lastCwnd = _lastTime = _bicOriginPoint = _bicK = 0;
        _delayMin = _epochStart = _ackCnt = _tcpCwnd = 0;
        _found = false;
    }

    /// <summary>Linux: bictcp_hystart_reset(): a new HyStart round ends when snd_una passes today's snd_nxt.</summary>
    private void BictcpHystartReset(TcpCongestionState tp)
    {
        _roundStart = _lastAck = BictcpClockUs(tp);
        _endSeq = tp.SndNxt;
        _currRtt = ~0U;
        _sampleCnt = 0;
    }

    /// <summary>Linux: cubictcp_init().</summary>
    public void Init(TcpCongestionState tp)
    {
        BictcpReset();
        if (_p.Hystart != 0) BictcpHystartReset(tp);
        if (_p.Hystart == 0 && _p.InitialSsthresh != 0) tp.SndSsthresh = (uint)_p.InitialSsthresh;
    }

    /// <summary>
    /// Linux: cubictcp_cwnd_event(). On CA_EVENT_TX_START after an idle period, the epoch moves forward by the
    /// idle time so that cwnd resumes on the curve where it left it. <see cref="TcpCongestionState.LastSendUs"/>
    /// must still be the previous send (tcp_event_data_sent raises the event before it updates lsndtime).
    /// </summary>
    public void CwndEvent(TcpCongestionState tp, TcpCaEvent ev)
    {
        if (ev != TcpCaEvent.TxStart) return;
        uint now = Jiffies32(tp.NowUs);
        int delta = (int)(now - Jiffies32(tp.LastSendUs));
        if (_epochStart != 0 && delta > 0)
        {
            _epochStart += (uint)delta;
            if (SeqNum.After(new(_epochStart), new(now))) _epochStart = now; // after() on jiffies
        }
    }

    /// <summary>
    /// Linux: cubic_root(). The integer cube root of <paramref name="a"/>: a first guess from a 64-entry table
    /// indexed by a shifted right by a multiple of 3 bits into [8, 63], then one Newton-Raphson step
    /// x' = (2x + a/x²)/3, computed as Linux does with a/(x·(x − 1)) and ·341/1024. Linux states an average error
    /// of ≈ 0.195 %.
    /// </summary>
    internal static uint CubicRoot(ulong a)
    {
        uint b = (uint)(64 - BitOperations.LeadingZeroCount(a)); // fls64()
        if (b < 7) return ((uint)V[(int)a] + 35) >> 6;           // a in [0, 63]

        b = ((b * 84) >> 8) - 1;                                 // ≈ fls64(a)/3 − 1
        uint shift = (uint)(a >> (int)(b * 3));                  // in [8, 63]
        uint x = (((uint)V[(int)shift] + 10) << (int)b) >> 6;
        x = 2 * x + (uint)(a / ((ulong)x * (x - 1)));
        return (x * 341) >> 10;
    }

    /// <summary>Linux: usecs_to_jiffies() at HZ = 1000, rounding up (delay_min never nears Linux's MAX_JIFFY_OFFSET clamp).</summary>
    private static uint UsecsToJiffies(uint us) => (us + UsecPerJiffy - 1) / UsecPerJiffy;

    /// <summary>
    /// Linux: bictcp_update(). Sets cnt, the number of ACKed segments per cwnd increment, from the cubic target
    /// one delay_min ahead (RFC 9438 §4.2, with delay_min for RTT) and from the Reno emulation (§4.3).
    /// </summary>
    private void BictcpUpdate(uint cwnd, uint acked, uint now)
    {
        _ackCnt += acked;

        if (_lastCwnd == cwnd && (int)(now - _lastTime) <= Hz / 32) return;

        // The cubic function updates cnt at most once per jiffy; every reduction clears epoch_start,
        // which forces a recomputation.
        if (_epochStart == 0 || now != _lastTime) BictcpCubicTarget(cwnd, acked, now);

        if (_p.TcpFriendliness != 0)
        {
            // RFC 9438 §4.3: W_est grows by one segment per cwnd·beta_scale/8 ACKed segments, i.e. by
            // α = 8/15 ≈ 3(1 − β)/(1 + β) per RTT, and cwnd grows at least that fast.
            uint delta = (cwnd * _betaScale) >> 3;
            while (_ackCnt > delta)
            {
                _ackCnt -= delta;
                _tcpCwnd++;
            }
            if (_tcpCwnd > cwnd)
            {
                uint maxCnt = cwnd / (_tcpCwnd - cwnd);
                if (_cnt > maxCnt) _cnt = maxCnt;
            }
        }

        // At most one segment per two ACKed, 1.5× per RTT (RFC 9438 §4.2 caps the target at 1.5·cwnd).
        _cnt = Math.Max(_cnt, 2U);
    }

    /// <summary>The part of Linux's bictcp_update() before the tcp_friendliness label.</summary>
    private void BictcpCubicTarget(uint cwnd, uint acked, uint now)
    {
        _lastCwnd = cwnd;
        _lastTime = now;

        if (_epochStart == 0)
        {
            _epochStart = now;
            _ackCnt = acked;
            _tcpCwnd = cwnd;
            if (_lastMaxCwnd <= cwnd)
            {
                _bicK = 0;
                _bicOriginPoint = cwnd;
            }
            else
            {
                // RFC 9438 §4.2 eq. 2, K = cbrt((W_max − cwnd_epoch)/C), in 2^-10 s.
                _bicK = CubicRoot(_cubeFactor * (_lastMaxCwnd - cwnd));
                _bicOriginPoint = _lastMaxCwnd;
            }
        }

        // t in 2^-10 s; (s32) as in Linux, then widened to u64.
        ulong t = (ulong)(long)(int)(now - _epochStart);
        t += UsecsToJiffies(_delayMin);
        t <<= BictcpHz;
        t /= Hz;

        ulong offs = t < _bicK ? _bicK - t : t - _bicK;
        // C·(t − K)³ in segments; Linux notes it cannot overflow while cwnd is below a million segments.
        uint delta = (uint)((_cubeRttScale * offs * offs * offs) >> (10 + 3 * BictcpHz));
        uint bicTarget = t < _bicK ? _bicOriginPoint - delta : _bicOriginPoint + delta;

        _cnt = bicTarget > cwnd ? cwnd / (bicTarget - cwnd) : 100 * cwnd;

        // Before the first loss W_max is unknown: grow by at least 5 % per RTT.
        if (_lastMaxCwnd == 0 && _cnt > 20) _cnt = 20;
    }

    /// <summary>Linux: cubictcp_cong_avoid(). Slow start as Reno, then one segment per cnt ACKed segments.</summary>
    public void CongAvoid(TcpCongestionState tp, uint ack, uint acked)
    {
        if (!tp.CwndLimited) return;
        if (tp.InSlowStart)
        {
            acked = tp.SlowStart(acked);
            if (acked == 0) return;
        }
        BictcpUpdate(tp.SndCwnd, acked, Jiffies32(tp.NowUs));
        tp.CongAvoidAi(_cnt, acked);
    }

    /// <summary>
    /// Linux: cubictcp_recalc_ssthresh(). Ends the epoch, remembers W_max (RFC 9438 §4.6), lowered to
    /// cwnd·(1 + β)/2 when the window is still shrinking (fast convergence, §4.7), and returns cwnd·β.
    /// </summary>
    public uint SsThresh(TcpCongestionState tp)
    {
        uint cwnd = tp.SndCwnd;
        _epochStart = 0;
        if (cwnd < _lastMaxCwnd && _p.FastConvergence != 0)
            _lastMaxCwnd = cwnd * (BictcpBetaScale + _beta) / (2 * BictcpBetaScale);
        else
            _lastMaxCwnd = cwnd;
        return Math.Max(cwnd * _beta / BictcpBetaScale, 2U);
    }

    /// <summary>
    /// Linux: cubictcp_state(). An RTO forgets everything, W_max included, so the next epoch starts with K = 0
    /// at the window it starts from, as RFC 9438 §4.8 asks.
    /// </summary>
    public void SetState(TcpCongestionState tp, TcpCaState newState)
    {
        if (newState != TcpCaState.Loss) return;
        BictcpReset();
        BictcpHystartReset(tp);
    }

    /// <summary>
    /// Linux: hystart_ack_delay(), the allowance for TSO/GRO aggregation: the time to send four GSO-sized
    /// packets at the pacing rate, at most 1 ms, and 0 while there is no rate.
    /// </summary>
    private static uint HystartAckDelay(TcpCongestionState tp)
    {
        ulong rate = (ulong)tp.PacingRate;
        if (rate == 0) return 0;
        return (uint)Math.Min(UsecPerMsec, SkGsoMaxSize * 4 * UsecPerSec / rate);
    }

    /// <summary>
    /// Linux: hystart_update(). Leaves slow start (ssthresh = cwnd) when the ACKs of one round form a train
    /// longer than half the minimum RTT, or when the round's minimum RTT exceeds delay_min by
    /// clamp(delay_min/8, 4 ms, 16 ms).
    /// </summary>
    private void HystartUpdate(TcpCongestionState tp, uint delay)
    {
        if (SeqNum.After(new(tp.SndUna), new(_endSeq))) BictcpHystartReset(tp);

        if (tp.SndCwnd < (uint)_p.HystartLowWindow) return;

        if ((_p.HystartDetect & CubicParameters.HystartAckTrain) != 0)
        {
            uint now = BictcpClockUs(tp);
            if ((int)(now - _lastAck) <= _p.HystartAckDeltaUs)
            {
                _lastAck = now;
                uint threshold = _delayMin + HystartAckDelay(tp);
                // Linux halves it when sk_pacing_status is SK_PACING_NONE, which it always is here: CUBIC
                // never asks for internal pacing and NetLab has no fq qdisc.
                threshold >>= 1;
                // Linux's (s32) difference is compared with a u32, so the comparison is unsigned.
                if (now - _roundStart > threshold)
                {
                    _found = true;
                    tp.Mib?.Inc(TcpExtMib.TCPHystartTrainDetect);
                    tp.Mib?.Add(TcpExtMib.TCPHystartTrainCwnd, tp.SndCwnd);
                    tp.SndSsthresh = tp.SndCwnd;
                }
            }
        }

        if ((_p.HystartDetect & CubicParameters.HystartDelay) != 0)
        {
            if (_currRtt > delay) _currRtt = delay;
            if (_sampleCnt < HystartMinSamples)
            {
                _sampleCnt++;
            }
            else if (_currRtt > _delayMin + Math.Clamp(_delayMin >> 3, HystartDelayMin, HystartDelayMax))
            {
                _found = true;
                tp.Mib?.Inc(TcpExtMib.TCPHystartDelayDetect);
                tp.Mib?.Add(TcpExtMib.TCPHystartDelayCwnd, tp.SndCwnd);
                tp.SndSsthresh = tp.SndCwnd;
            }
        }
    }

    /// <summary>Linux: cubictcp_acked(). Tracks the minimum RTT and feeds HyStart while in slow start.</summary>
    public void PktsAcked(TcpCongestionState tp, in TcpAckSample sample)
    {
        if (sample.RttUs < 0) return; // no timestamp (a duplicate ACK)

        // Discard delay samples right after fast recovery: the first second of an epoch.
        if (_epochStart != 0 && (int)(Jiffies32(tp.NowUs) - _epochStart) < Hz) return;

        uint delay = (uint)sample.RttUs;
        if (delay == 0) delay = 1;

        if (_delayMin == 0 || _delayMin > delay) _delayMin = delay;

        if (!_found && tp.InSlowStart && _p.Hystart != 0) HystartUpdate(tp, delay);
    }

    /// <summary>tcp_reno_undo_cwnd(), as Linux's cubictcp uses.</summary>
    public uint UndoCwnd(TcpCongestionState tp) => Math.Max(tp.SndCwnd, tp.PriorCwnd);

    public void CongControl(TcpCongestionState tp, uint ack, in TcpRateSample rs) { }
}
