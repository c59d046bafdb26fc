package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// managedAliasPrefix names AWS managed keys' aliases.
const managedAliasPrefix = "alias/aws/"

// managedServices are the services that have AWS managed keys. Any other alias/aws/ name is
// NotFound, as in AWS, rather than a way for any caller to create keys without bound.
var managedServices = map[string]bool{
	"s3": true, "ebs": true, "rds": true, "lambda": true, "secretsmanager": true, "ssm": true,
	"dynamodb": true, "sqs": true, "sns": true, "kinesis": true, "firehose": true, "redshift": true,
	"elasticfilesystem": true, "backup": true, "es": true, "glue": true, "codecommit": true,
	"codeartifact": true, "logs": true, "acm": true, "fsx": true, "kafka": true, "timestream": true,
	"xray": true, "cloud9": true, "workspaces": true, "connect": true, "kendra": true,
	"elasticache": true, "sagemaker": true, "qldb": true, "ecr": true, "eks": true,
}

// ServiceKey returns the AWS managed key of a service (e.g. "aws/s3") in account, creating it
// and its alias on first use, as AWS does. The object service calls it for SSE-KMS without a
// key id. It returns the key's ARN.
func (s *Service) ServiceKey(ctx context.Context, account, service string) (string, error) {
	e, err := s.managedKey(ctx, account, "alias/"+service)
	if err != nil {
		return "", err
	}
	return s.arn(e.key), nil
}

func (s *Service) managedKey(ctx context.Context, account, alias string) (*entry, error) {
	name := strings.TrimPrefix(alias, managedAliasPrefix)
	if !strings.HasPrefix(alias, managedAliasPrefix) || !managedServices[name] || !validAliasName(alias) {
		return nil, errf(ErrNotFound, "Alias %s is not found.", s.aliasARN(account, alias))
	}
	if id, err := s.aliasKey(ctx, account, alias); err == nil {
		return s.load(ctx, id)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if a, err := s.store.GetAlias(ctx, account, alias); err == nil {
		return s.load(ctx, a.KeyID)
	} else if !errors.Is(err, ErrStoreNoSuchAlias) {
		return nil, s.internal("managed key alias", err)
	}
	now := s.now().UTC()
	k := &Key{
		ID: newUUID(), Account: account, Manager: ManagerAWS, Spec: SpecSymmetric,
		Description: fmt.Sprintf("Default key that protects my %s data when no other key is defined", strings.ToUpper(name)),
		Usage:       UsageEncryptDecrypt, Origin: OriginAWSKMS, State: StateEnabled, Created: now,
		Policy:   managedPolicy(s.partition, s.region, account, name),
		Rotation: Rotation{Enabled: true, PeriodDays: s.mgdDays, Next: now.Add(time.Duration(s.mgdDays) * 24 * time.Hour)},
	}
	if err := s.addVersion(ctx, k, ""); err != nil {
		return nil, err
	}
	err := s.store.CreateKey(ctx, k, &Alias{Account: account, Name: alias, KeyID: k.ID, Created: now, Updated: now}, 0)
	if errors.Is(err, ErrStoreAliasExists) {
		// Another node sharing the store made the key first: use its key, drop ours.
		id, err := s.lostCreateRace(ctx, k, account, alias)
		if err != nil {
			return nil, s.internal("managed key alias", err)
		}
		return s.load(ctx, id)
	}
	if err != nil {
		return nil, s.internal("create managed key", err)
	}
	s.aliasesChanged(ctx, account)
	return s.load(ctx, k.ID)
}

// OwnedKey returns the id of the service-owned symmetric key called name, creating it on first
// use. Owned keys are invisible to every account; Coffer uses them for SSE-S3. Use them with
// the *Owned methods. An owned key rotates automatically every Config.OwnedRotationDays; when
// that period changed since the key was made, OwnedKey applies it, counting from now.
func (s *Service) OwnedKey(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", errors.New("kms: owned key name is empty")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	account := ownedAccount
	alias := "alias/" + name
	if a, err := s.store.GetAlias(ctx, account, alias); err == nil {
		return a.KeyID, s.applyOwnedPeriod(ctx, a.KeyID)
	} else if !errors.Is(err, ErrStoreNoSuchAlias) {
		return "", s.internal("owned key alias", err)
	}
	now := s.now().UTC()
	k := &Key{
		ID: newUUID(), Account: account, Owned: true, Manager: ManagerAWS, Spec: SpecSymmetric,
		Usage: UsageEncryptDecrypt, Origin: OriginAWSKMS, State: StateEnabled, Created: now,
		Rotation: Rotation{Enabled: true, PeriodDays: s.ownedDays, Next: now.Add(time.Duration(s.ownedDays) * 24 * time.Hour)},
	}
	if err := s.addVersion(ctx, k, ""); err != nil {
		return "", err
	}
	err := s.store.CreateKey(ctx, k, &Alias{Account: account, Name: alias, KeyID: k.ID, Created: now, Updated: now}, 0)
	if errors.Is(err, ErrStoreAliasExists) {
		// Another node sharing the store made the key first: use its key, drop ours.
		id, err := s.lostCreateRace(ctx, k, account, alias)
		if err != nil {
			return "", s.internal("owned key alias", err)
		}
		return id, s.applyOwnedPeriod(ctx, id)
	}
	if err != nil {
		return "", s.internal("create owned key", err)
	}
	s.aliasesChanged(ctx, account)
	return k.ID, nil
}

// lostCreateRace handles a managed or owned key whose alias another node sharing the store
// created between this node's look-up and its CreateKey: the material made for the key that
// was not stored is destroyed, and the id of the key the alias names is returned. Callers
// hold wmu.
func (s *Service) lostCreateRace(ctx context.Context, unstored *Key, account, alias string) (string, error) {
	if err := s.shredSlots(ctx, slotsOf(unstored)...); err != nil {
		s.log.Error("kms: the material of a key that was not stored was not destroyed; the start-up sweep of an embedded store will; on shared stores its shred slot stays (a row)", "err", err)
	}
	s.Invalidate(TopicAliases, account) // this node's copy of the aliases lacks the new one
	a, err := s.store.GetAlias(ctx, account, alias)
	if err != nil {
		return "", err
	}
	return a.KeyID, nil
}

// ownedAccount is the pseudo-account of service-owned keys; no real account id is empty.
const ownedAccount = ""

// applyOwnedPeriod sets an owned key's rotation period to the configured one. Callers hold wmu.
func (s *Service) applyOwnedPeriod(ctx context.Context, id string) error {
	e, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if e.key.Rotation.PeriodDays == s.ownedDays && e.key.Rotation.Enabled {
		return nil
	}
	now := s.now().UTC()
	_, err = s.updateLocked(ctx, id, func(k *Key) error {
		k.Rotation = Rotation{Enabled: true, PeriodDays: s.ownedDays, Next: now.Add(time.Duration(s.ownedDays) * 24 * time.Hour)}
		return nil
	})
	return err
}

// managedPolicy is the key policy AWS gives the AWS managed key of a service: every principal
// of the account may use the key through that service (kms:ViaService), none directly; the
// account may read its metadata.
func managedPolicy(partition, region, account, service string) string {
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "auto-%[4]s-2",
  "Statement" : [ {
    "Sid" : "Allow access through %[4]s for all principals in the account that are authorized to use %[4]s",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "%[3]s",
        "kms:ViaService" : "%[4]s.%[2]s.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:%[1]s:iam::%[3]s:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  } ]
}`, partition, region, account, service)
}
