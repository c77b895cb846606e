// One ECharts instance in a div: created on mount, given each new option (not merged), resized
// whenever its box changes (ResizeObserver), disposed on unmount.
import { useEffect, useRef } from 'react';
import { echarts, PALETTE } from './echarts';
import type { ChartOption, ECElementEvent } from './echarts';

interface Props {
  option: ChartOption;
  height?: number | string;
  onClick?: (e: ECElementEvent) => void;
  /** Clicks on empty canvas (not on a series element). */
  onBlankClick?: () => void;
  className?: string;
  ariaLabel?: string;
  /** Merge new options into the chart instead of replacing them (keeps zoom and pan). */
  merge?: boolean;
}

export function Chart({
  option,
  height = 280,
  onClick,
  onBlankClick,
  className,
  ariaLabel,
  merge = false,
}: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof echarts.init> | null>(null);
  const handlers = useRef({ onClick, onBlankClick });
  handlers.current = { onClick, onBlankClick };

  useEffect(() => {
    const div = el.current;
    if (!div) return;
    const c = echarts.init(div, null, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (e) => handlers.current.onClick?.(e as ECElementEvent));
    c.getZr().on('click', (e) => {
      if (!e.target) handlers.current.onBlankClick?.();
    });
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(div);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    // a responsive option ({ baseOption, media }) takes the palette in its base
    const withPalette =
      'baseOption' in option && option.baseOption
        ? { ...option, baseOption: { color: PALETTE, ...(option.baseOption as object) } }
        : { color: PALETTE, ...option };
    chart.current?.setOption(withPalette, { notMerge: !merge });
  }, [option, merge]);

  return (
    <div
      ref={el}
      className={className ? `chart ${className}` : 'chart'}
      style={{ height }}
      role="img"
      aria-label={ariaLabel}
    />
  );
}
