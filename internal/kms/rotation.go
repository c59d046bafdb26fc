package kms

import (
	"context"
	"fmt"
	"time"
)

const (
	defaultRotationDays = 365
	maxOnDemand         = 25
)

func (s *Service) rotatable(k *Key) error {
	if k.Spec != SpecSymmetric {
		return errf(ErrUnsupported, "%s key spec is %s which is not valid for this operation.", s.arn(k), k.Spec)
	}
	return nil
}

// EnableKeyRotation turns on automatic rotation every days (90–2560; 0 means 365).
func (s *Service) EnableKeyRotation(ctx context.Context, c Caller, keyID string, days int) error {
	if days == 0 {
		days = defaultRotationDays
	}
	if days < 90 || days > 2560 {
		return errConstraint(days, "rotationPeriodInDays", "Member must have value between 90 and 2560")
	}
	_, err := s.modify(ctx, c, keyID, "EnableKeyRotation", opRotationConfig, func(k *Key) error {
		if err := s.rotatable(k); err != nil {
			return err
		}
		base := k.Created
		if cur := k.current(); cur != nil {
			base = cur.Created
		}
		if !k.Rotation.Enabled || k.Rotation.PeriodDays != days {
			k.Rotation.Enabled, k.Rotation.PeriodDays = true, days
			k.Rotation.Next = base.Add(time.Duration(days) * 24 * time.Hour)
			if now := s.now().UTC(); k.Rotation.Next.Before(now) {
				k.Rotation.Next = now
			}
		}
		return nil
	})
	return s.storeErr("enable rotation", err)
}

// DisableKeyRotation turns automatic rotation off.
func (s *Service) DisableKeyRotation(ctx context.Context, c Caller, keyID string) error {
	_, err := s.modify(ctx, c, keyID, "DisableKeyRotation", opRotationConfig, func(k *Key) error {
		if err := s.rotatable(k); err != nil {
			return err
		}
		k.Rotation.Enabled, k.Rotation.Next = false, time.Time{}
		return nil
	})
	return s.storeErr("disable rotation", err)
}

// RotationStatus is GetKeyRotationStatus's result.
type RotationStatus struct {
	KeyId                     string
	KeyRotationEnabled        bool
	RotationPeriodInDays      int
	NextRotationDate          time.Time
	OnDemandRotationStartDate time.Time
}

// GetKeyRotationStatus reports whether automatic rotation is on. A key pending deletion reads
// false (CancelKeyDeletion restores it).
func (s *Service) GetKeyRotationStatus(ctx context.Context, c Caller, keyID string) (RotationStatus, error) {
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("GetKeyRotationStatus"))
	if err != nil {
		return RotationStatus{}, err
	}
	k := e.key
	if err := s.checkState(k, opRotationStatus); err != nil {
		return RotationStatus{}, err
	}
	if err := s.rotatable(k); err != nil {
		return RotationStatus{}, err
	}
	out := RotationStatus{KeyId: s.arn(k)}
	if k.Rotation.Enabled && k.State != StatePendingDeletion {
		out.KeyRotationEnabled = true
		out.RotationPeriodInDays = k.Rotation.PeriodDays
		out.NextRotationDate = k.Rotation.Next
	}
	return out, nil
}

// RotateKeyOnDemand adds a new material version now (at most 25 times per key).
func (s *Service) RotateKeyOnDemand(ctx context.Context, c Caller, keyID string) (string, error) {
	e, err := s.manageable(ctx, c, keyID, "RotateKeyOnDemand", opRotateOnDemand)
	if err != nil {
		return "", err
	}
	if err := s.rotatable(e.key); err != nil {
		return "", err
	}
	raw, err := generateMaterial(SpecSymmetric)
	if err != nil {
		return "", s.internal("generate", err)
	}
	defer clear(raw)
	e, err = s.update(ctx, e.key.ID, func(k *Key) error {
		if err := s.checkState(k, opRotateOnDemand); err != nil {
			return err
		}
		if k.Rotation.Enabled && !k.Rotation.Next.IsZero() && k.Rotation.Next.Before(s.now().Add(20*time.Minute)) {
			return errf(ErrConflict, "An automatic rotation of %s is in progress or due within 20 minutes.", s.arn(k))
		}
		if k.Rotation.OnDemand >= maxOnDemand {
			return errf(ErrLimitExceeded, "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: %s", s.arn(k))
		}
		k.Rotation.OnDemand++
		return s.appendSealed(ctx, k, raw, "ON_DEMAND")
	})
	if err != nil {
		return "", s.storeErr("rotate", err)
	}
	return s.arn(e.key), nil
}

// RotationEntry is one ListKeyRotations result.
type RotationEntry struct {
	KeyId         string
	KeyMaterialId string
	RotationDate  time.Time
	RotationType  string
}

// ListKeyRotations lists a key's rotations (not its original material), oldest first.
func (s *Service) ListKeyRotations(ctx context.Context, c Caller, keyID string, p Page) ([]RotationEntry, string, error) {
	limit, err := p.limit(100)
	if err != nil {
		return nil, "", err
	}
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("ListKeyRotations"))
	if err != nil {
		return nil, "", err
	}
	if err := s.checkState(e.key, opRotationStatus); err != nil {
		return nil, "", err
	}
	if err := s.rotatable(e.key); err != nil {
		return nil, "", err
	}
	var all []Version
	for _, v := range e.key.Versions {
		if v.Type != "" {
			all = append(all, v)
		}
	}
	// Versions are numbered in the order they were made; the fixed width sorts the numbers.
	number := func(v Version) string { return fmt.Sprintf("%010d", v.Number) }
	vs, next, err := page(ctx, s, listRotations, c.Account+"\x00"+e.key.ID, all, number, p.Marker, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]RotationEntry, len(vs))
	for i, v := range vs {
		out[i] = RotationEntry{KeyId: s.arn(e.key), KeyMaterialId: v.MaterialID, RotationDate: v.Created, RotationType: v.Type}
	}
	return out, next, nil
}

// rotateDue performs an automatic rotation of k if it is due at now.
func (s *Service) rotateDue(ctx context.Context, id string, now time.Time) error {
	raw, err := generateMaterial(SpecSymmetric)
	if err != nil {
		return err
	}
	defer clear(raw)
	e, err := s.update(ctx, id, func(k *Key) error {
		if !k.Rotation.Enabled || k.State != StateEnabled || k.Rotation.Next.IsZero() || k.Rotation.Next.After(now) {
			return errNotDue
		}
		if err := s.appendSealed(ctx, k, raw, "AUTOMATIC"); err != nil {
			return err
		}
		k.Rotation.Next = now.Add(time.Duration(k.Rotation.PeriodDays) * 24 * time.Hour)
		return nil
	})
	if err == nil && !e.key.Owned {
		// Service-owned keys (the SSE-S3 key) are Coffer's own, as AWS owned keys are AWS's:
		// their rotations are in no account's trail.
		s.serviceEvent(ctx, e.key, "RotateKey", map[string]any{"keyId": e.key.ID})
	}
	return err
}
