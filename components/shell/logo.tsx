import { cn } from "../ui/cn";

/** Two strands joined in the middle: a splice. */
export function LogoMark({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 24 24" className={cn("size-6", className)} aria-hidden="true">
      <defs>
        <linearGradient id="splicer-g" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#7c83f5" />
          <stop offset="1" stopColor="#4a51c4" />
        </linearGradient>
      </defs>
      <rect width="24" height="24" rx="6" fill="url(#splicer-g)" />
      <path d="M5.5 8.5h6.2c1.3 0 2.1.8 2.6 1.8l.6 1.4c.5 1 1.3 1.8 2.6 1.8h1" stroke="#fff" strokeWidth="1.8" fill="none" strokeLinecap="round" />
      <path d="M5.5 15.5h4.3" stroke="#fff" strokeOpacity="0.55" strokeWidth="1.8" strokeLinecap="round" />
      <path d="M14.2 15.5h4.3" stroke="#fff" strokeOpacity="0.55" strokeWidth="1.8" strokeLinecap="round" />
      <circle cx="18.5" cy="13.5" r="1.3" fill="#fff" />
    </svg>
  );
}

export function Logo({ className }: { className?: string }) {
  return (
    <span className={cn("inline-flex items-center gap-2", className)}>
      <LogoMark />
      <span className="text-[15px] font-semibold tracking-[-0.01em]">Splicer</span>
    </span>
  );
}
